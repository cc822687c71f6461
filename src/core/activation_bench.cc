#include "core/activation_bench.h"

#include <algorithm>
#include <span>
#include <thread>
#include <vector>

#include "base/interrupt.h"
#include "base/parallel.h"
#include "core/activation.h"
#include "core/init.h"
#include "core/layer.h"
#include "core/rng.h"

namespace gf {
namespace {

PassTiming pass_timing(const std::vector<double>& seconds, Index n) {
  std::vector<double> ns(seconds.size());
  for (std::size_t i = 0; i < seconds.size(); ++i) ns[i] = seconds[i] * 1e9 / static_cast<double>(n);
  PassTiming t;
  t.ns_per_element = quartiles_of(ns);
  t.g_elements_per_s = 1.0 / t.ns_per_element.median;
  return t;
}

Quartiles in_ms(const std::vector<double>& seconds) {
  std::vector<double> ms(seconds.size());
  for (std::size_t i = 0; i < seconds.size(); ++i) ms[i] = seconds[i] * 1e3;
  return quartiles_of(ms);
}

// Pre-activations like a network's: N(0, 4), so both tails and the middle are visited.
template <class T>
void fill_preactivations(T* h, Index n, std::uint32_t which) {
  fill_normal<T>({0, Stream::bench, which}, 0, h, static_cast<std::size_t>(n), T(2));
}

template <class T>
ActivationTiming time_array(const Activation& act, const ActivationBenchConfig& c, const T* h, T* a,
                            T* d) {
  const ForwardKernel<T> phi = act.kernels<T>().phi;
  const ActivationKernel<T> phi_d = act.kernels<T>().phi_and_slope;
  const Index n = c.size;
  phi(h, a, n, c.leaky_slope);  // warm-up: pages touched, caches and branch predictors primed
  phi_d(h, a, d, n, c.leaky_slope);
  std::vector<double> fwd, both;
  for (int r = 0; r < c.repeat; ++r) {  // interleaved, so a noisy moment hits both alike
    throw_if_interrupted();
    fwd.push_back(time_once([&] { phi(h, a, n, c.leaky_slope); }));
    both.push_back(time_once([&] { phi_d(h, a, d, n, c.leaky_slope); }));
  }
  return {std::string(act.name), pass_timing(fwd, n), pass_timing(both, n)};
}

template <class T>
struct LayerBuffers {
  Mat<T> a_prev, h_d, a;
  RowMat<T> W;
  Vec<T> b;
  LayerBuffers(Index B, Index n) : a_prev(B, n), h_d(B, n), a(B, n), W(n, n), b(n) {
    fill_preactivations(a_prev.data(), a_prev.size(), 1);
    WeightInit init{"lecun_normal", WeightDist::normal, find_init("lecun_normal"), {}, {}, {}};
    draw_weights<T>(init, 0, Stream::bench, 2, W, 1);
    b.setZero();
  }
};

template <class T>
LayerTiming time_layer(const Activation& act, const ActivationBenchConfig& c, LayerBuffers<T>& L) {
  const Index n = c.layer_width;
  const SaturationTest sat = saturation_test(act, c.leaky_slope, 0.1, std::nullopt);
  std::vector<ForwardPartial> parts(static_cast<std::size_t>(block_count(n)));
  auto layer = [&] {
    for_each_group(n, c.threads, [&](const BlockGroup& g) {
      layer_forward_group<T>(act, c.leaky_slope, sat, L.a_prev, L.W.middleRows(g.c0, g.cols), L.b.segment(g.c0, g.cols),
                             L.h_d.middleCols(g.c0, g.cols), L.a.middleCols(g.c0, g.cols),
                             std::span(parts).subspan(static_cast<std::size_t>(g.first),
                                                      static_cast<std::size_t>(g.last - g.first)));
    });
  };
  auto gemm = [&] {  // the product exactly as layer_forward_group writes it
    for_each_group(n, c.threads, [&](const BlockGroup& g) {
      L.h_d.middleCols(g.c0, g.cols).noalias() = L.a_prev * L.W.middleRows(g.c0, g.cols).transpose();
    });
  };
  const ActivationKernel<T> phi_d = act.kernels<T>().phi_and_slope;
  auto activation = [&] {  // in place, d over h, as layer_forward_group runs it
    for_each_block(n, c.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n), B = L.h_d.rows();
      T* h = L.h_d.data() + c0 * B;
      phi_d(h, L.a.data() + c0 * B, h, B * cols, c.leaky_slope);
    });
  };
  layer();
  gemm();
  activation();
  std::vector<double> t_layer, t_gemm, t_act;
  for (int r = 0; r < c.repeat; ++r) {
    throw_if_interrupted();
    t_layer.push_back(time_once(layer));
    t_gemm.push_back(time_once(gemm));
    gemm();  // fresh pre-activations, so phi sees h and not last pass's phi'(h)
    t_act.push_back(time_once(activation));
  }
  LayerTiming t;
  t.activation = std::string(act.name);
  t.layer_ms = in_ms(t_layer);
  t.gemm_ms = in_ms(t_gemm);
  t.activation_ms = in_ms(t_act);
  t.gemm_share = t.gemm_ms.median / t.layer_ms.median;
  t.activation_share = t.activation_ms.median / t.layer_ms.median;
  const double flops = 2.0 * static_cast<double>(L.a_prev.rows()) * static_cast<double>(n) *
                       static_cast<double>(n);
  t.gemm_gflops = flops / (t.gemm_ms.median * 1e-3) / 1e9;
  return t;
}

template <class T>
ActivationBenchResult run_typed(const ActivationBenchConfig& c) {
  ActivationBenchResult result{c, {}, {}};
  std::vector<const Activation*> acts;
  for (const std::string& name : c.activations) acts.push_back(find_activation(name));
  const Activation* relu = find_activation("relu");

  Vec<T> h(c.size), a(c.size), d(c.size);
  fill_preactivations(h.data(), c.size, 0);
  const ActivationTiming relu_time = time_array<T>(*relu, c, h.data(), a.data(), d.data());
  for (const Activation* act : acts) {
    ActivationTiming t = act == relu ? relu_time : time_array<T>(*act, c, h.data(), a.data(), d.data());
    t.forward.ratio_to_relu = t.forward.ns_per_element.median / relu_time.forward.ns_per_element.median;
    t.forward_derivative.ratio_to_relu = t.forward_derivative.ns_per_element.median /
                                         relu_time.forward_derivative.ns_per_element.median;
    result.arrays.push_back(t);
  }

  LayerBuffers<T> buffers(c.layer_batch, c.layer_width);
  for (const Activation* act : acts) result.layers.push_back(time_layer<T>(*act, c, buffers));
  return result;
}

}  // namespace

ActivationBenchResult run_activation_bench(ActivationBenchConfig c) {
  if (c.activations.empty()) c.activations = activation_names();
  if (c.threads <= 0) c.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return c.dtype == Dtype::f32 ? run_typed<float>(c) : run_typed<double>(c);
}

}  // namespace gf
