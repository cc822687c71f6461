#include "engine.h"

#include <cmath>
#include <omp.h>

#include "interrupt.h"
#include "layer.h"
#include "loss.h"
#include "parallel.h"

namespace gf {

template <class T>
void network_forward(Network<T>& net, PassResult& out) {
  const NetworkSpec& s = net.spec;
  const Index L = s.depth();
  out = PassResult{};
  out.layers.resize(static_cast<std::size_t>(L));
  for (Index l = 1; l <= L; ++l) {
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    st.layer = l;
    st.fan_in = s.widths[l - 1];
    st.width = s.widths[l];
  }
  const SaturationTest sat = saturation_test(*s.activation, s.activation_param, s.sat_eps, s.saturated_when);

  for (Index l = 1; l <= L; ++l) {
    throw_if_interrupted();
    const auto W = net.weights(l);
    const Index n = s.widths[l];
    for_each_block(n, s.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      net.forward_parts[blk] = layer_forward_block<T>(
          *s.activation, s.activation_param, sat, net.A[l - 1], W.middleRows(c0, cols),
          net.b[l].segment(c0, cols), net.D[l].middleCols(c0, cols), net.A[l].middleCols(c0, cols));
    });
    ForwardPartial total;
    for (Index blk = 0; blk < block_count(n); ++blk) total.merge(net.forward_parts[blk]);
    set_forward_stats(out.layers[static_cast<std::size_t>(l - 1)], total);
    if (total.nonfinite > 0) {
      out.overflow_layer = l;
      return;
    }
  }

  net.Z.noalias() = net.A[L] * net.W_head.transpose();
  if (!net.Z.allFinite()) {
    out.overflow_layer = L + 1;
    return;
  }
  out.loss = loss_forward<T>(s.loss, net.Z, net.labels, net.targets);
}

// The gradient is linear in the upstream gradient, so each layer's d h is divided by its norm
// before it goes further down, and log10 of the norms taken out is carried in `scale`: every
// norm is reported as log10(norm at unit scale) + scale, whatever the depth.
template <class T>
void network_backward(Network<T>& net, PassResult& out, GradientTap* tap) {
  const NetworkSpec& s = net.spec;
  const Index L = s.depth(), B = s.batch;
  if (out.overflow_layer != 0) return;
  if (tap) {
    tap->d_h.assign(static_cast<std::size_t>(L + 1), {});
    tap->d_W.assign(static_cast<std::size_t>(L + 1), {});
  }

  loss_backward<T>(s.loss, net.Z, net.labels, net.targets, net.dZ);
  as_matrix(net.grad_a, B, s.widths[L]).noalias() = net.dZ * net.W_head;
  double scale = 0;  // log10 of the factor divided out of the gradients so far

  for (Index l = L; l >= 1; --l) {
    throw_if_interrupted();
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    const Index n = s.widths[l], n_in = s.widths[l - 1];
    auto d_a = as_matrix(net.grad_a, B, n);
    auto d_h = as_matrix(net.grad_h, B, n);

    // d_h of a block, then at once that block's rows of d_W, while its d_h is still in cache.
    // d_W is only reported if the layer's gradient turns out finite and non-zero.
    for_each_block(n, s.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      auto d_h_cols = d_h.middleCols(c0, cols);
      net.sumsq_parts[blk] =
          preact_grad_block<T>(d_a.middleCols(c0, cols), net.D[l].middleCols(c0, cols), d_h_cols);
      Mat<T>& scratch = net.dW_scratch[static_cast<std::size_t>(omp_get_thread_num())];
      net.weight_grad_parts[blk] =
          weight_grad_block<T>(net.A[l - 1], d_h_cols, scratch.topLeftCorner(n_in, cols));
    });
    double sumsq = 0;
    for (Index blk = 0; blk < block_count(n); ++blk) sumsq += net.sumsq_parts[blk];
    if (!std::isfinite(sumsq)) {
      out.overflow_layer = l;
      return;
    }
    if (sumsq == 0) {  // every unit of this layer is flat on every sample: nothing flows below
      out.zero_grad_layer = l;
      break;
    }
    st.grad_preact_log10 = 0.5 * std::log10(sumsq) + scale;

    WeightGradPartial wg;
    for (Index blk = 0; blk < block_count(n); ++blk) wg.merge(net.weight_grad_parts[blk]);
    if (wg.sumsq > 0) {  // 0 when the layer's input is all zeros: no gradient, and no sign
      st.grad_weight_log10 = 0.5 * std::log10(wg.sumsq) + scale;
      st.dw_sign_coherence = wg.coherence_sum / static_cast<double>(wg.rows);
    }

    if (tap) {
      const double unscale = std::pow(10.0, scale);
      tap->d_h[l] = d_h.template cast<double>() * unscale;
      tap->d_W[l] = (d_h.transpose() * net.A[l - 1]).template cast<double>() * unscale;
    }

    const double norm = std::sqrt(sumsq);
    if (l > 1) {
      const auto W = net.weights(l);
      auto d_a_prev = as_matrix(net.grad_a, B, n_in);  // d_a of this layer is spent; reuse its buffer
      T inv_norm = static_cast<T>(1.0 / norm);
      if (!std::isfinite(inv_norm)) {  // 1/norm is beyond T's range: take it out in two halves
        inv_norm = static_cast<T>(std::pow(10.0, -0.5 * std::log10(norm)));
        d_h *= inv_norm;
      }
      for_each_block(n_in, s.threads, [&](Index blk) {
        const Index c0 = block_begin(blk), cols = block_size(blk, n_in);
        input_grad_block<T>(d_h, W.middleCols(c0, cols), inv_norm, d_a_prev.middleCols(c0, cols));
      });
    }
    scale += std::log10(norm);
  }

  const double last = out.layers.back().grad_weight_log10;
  for (LayerStats& st : out.layers) st.grad_weight_rel_log10 = st.grad_weight_log10 - last;
}

template void network_forward<float>(Network<float>&, PassResult&);
template void network_forward<double>(Network<double>&, PassResult&);
template void network_backward<float>(Network<float>&, PassResult&, GradientTap*);
template void network_backward<double>(Network<double>&, PassResult&, GradientTap*);

}  // namespace gf
