#include "engine.h"

#include <cmath>
#include <limits>
#include <omp.h>

#include "interrupt.h"
#include "layer.h"
#include "loss.h"
#include "parallel.h"
#include "reduce.h"

namespace gf {

namespace {

// A layer whose slopes underflow T (f32: below 1.2e-38) would pass zeros, or subnormals with
// few digits, to the gradient. Where even the layer's largest slope is that small (every unit
// deep in a tail: tanh with a bias of 100 has slopes of 10^-87), the slopes are computed again
// as phi'(h) e^shift with shift = -max g(h) (activation.h), so that the largest is of order 1,
// and the backward pass carries the factor in its log scale: the gradient stays exact. Where
// the largest slope is not small, the underflowing ones hardly count next to it, and the
// backward pass bounds what they can carry (network_backward).
template <class T>
void rescale_slopes(Network<T>& net, Index l, Eigen::Map<const RowMat<T>> W, LayerStats& st) {
  const NetworkSpec& s = net.spec;
  const Activation& act = *s.activation;
  const Index n = s.widths[l];
  if (!act.scaled_slope<T>()) return;
  Mat<T>& D = net.D[l];
  T top = 0;
  for (Index i = 0; i < D.size(); ++i) top = std::max(top, std::abs(D.data()[i]));
  if (top >= std::sqrt(std::numeric_limits<T>::min())) return;

  for_each_block(n, s.threads, [&](Index blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    net.sumsq_parts[blk] = preact_again_block<T>(act, net.A[l - 1], W.middleRows(c0, cols),
                                                 net.b[l].segment(c0, cols), D.middleCols(c0, cols));
  });
  double g_max = -std::numeric_limits<double>::infinity();
  for (Index blk = 0; blk < block_count(n); ++blk) g_max = std::max(g_max, net.sumsq_parts[blk]);
  // An integer shift, exact in T, so the kernels and the log scale agree on it to the bit.
  const double shift = static_cast<T>(std::round(-g_max));
  const bool usable = std::isfinite(shift) && std::abs(shift) < 1e30;
  for_each_block(n, s.threads, [&](Index blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    auto h_d = D.middleCols(c0, cols);
    if (usable) {
      net.forward_parts[blk].slope_underflow = scaled_slope_block<T>(act, shift, h_d);  // spent parts reused
    } else {  // h beyond any sensible range: phi' as before, and the backward pass checks it
      auto a = net.A[l].middleCols(c0, cols);
      act.kernel<T>()(h_d.data(), a.data(), h_d.data(), h_d.size(), s.activation_param);
    }
  });
  if (!usable) return;
  st.slopes_lost = 0;
  for (Index blk = 0; blk < block_count(n); ++blk) st.slopes_lost += net.forward_parts[blk].slope_underflow;
  st.slope_scale_log10 = -shift / std::log(10.0);
}

// d W = a^T d_h with d_h at the pass's unit scale: its entries are about as large as a's. In
// f64, activations below 1e-154 (a forward signal fading over thousands of layers) would make
// their squares underflow the double sums; a power of 2 brings them back (exact).
template <class T>
T square_scale_for(const Mat<T>& a) {
  if constexpr (std::is_same_v<T, float>) {
    return 1.0f;  // f32 values squared in double never underflow
  } else {
    double top = 0;
    for (Index i = 0; i < a.size(); ++i) top = std::max(top, std::abs(a.data()[i]));
    return top > 0 && top < 0x1p-400 ? std::ldexp(1.0, -std::ilogb(top)) : 1.0;
  }
}

}  // namespace

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
    for_each_block_or_stop(n, s.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      net.forward_parts[blk] = layer_forward_block<T>(
          *s.activation, s.activation_param, sat, net.A[l - 1], W.middleRows(c0, cols),
          net.b[l].segment(c0, cols), net.D[l].middleCols(c0, cols), net.A[l].middleCols(c0, cols));
    });
    ForwardPartial total;
    for (Index blk = 0; blk < block_count(n); ++blk) total.merge(net.forward_parts[blk]);
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    set_forward_stats(st, total);
    if (total.nonfinite > 0) {
      out.overflow_layer = l;
      return;
    }
    if (total.slope_underflow > 0) rescale_slopes(net, l, W, st);
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
    const T square_scale = square_scale_for(net.A[l - 1]);
    for_each_block_or_stop(n, s.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      auto d_h_cols = d_h.middleCols(c0, cols);
      net.sumsq_parts[blk] =
          preact_grad_block<T>(d_a.middleCols(c0, cols), net.D[l].middleCols(c0, cols), d_h_cols);
      Mat<T>& scratch = net.dW_scratch[static_cast<std::size_t>(omp_get_thread_num())];
      net.weight_grad_parts[blk] =
          weight_grad_block<T>(net.A[l - 1], d_h_cols, scratch.topLeftCorner(n_in, cols), square_scale);
    });
    double sumsq = 0;
    for (Index blk = 0; blk < block_count(n); ++blk) sumsq += net.sumsq_parts[blk];
    if (!std::isfinite(sumsq)) {
      out.overflow_layer = l;
      return;
    }
    // Each slope still below T's normal range is off by less than that number, so together they
    // change d_h by less than min_normal |d_a| (both at the pass's current scale).
    // Where that could be more than kExactTolerance of the norm, no figure is given from
    // here down: gradflow never prints a gradient it cannot vouch for.
    if (st.slopes_lost > 0) {
      const double lost = static_cast<double>(std::numeric_limits<T>::min()) *
                          std::sqrt(reduce::sum_squares(d_a.data(), d_a.size()));
      if (!(lost <= kExactTolerance * std::sqrt(sumsq))) {
        out.inexact_layer = l;
        break;
      }
    }
    if (sumsq == 0) {  // every unit of this layer is flat on every sample: nothing flows below
      out.zero_grad_layer = l;
      break;
    }
    scale += st.slope_scale_log10;  // the factor this layer's stored slopes carry
    st.grad_preact_log10 = 0.5 * std::log10(sumsq) + scale;

    WeightGradPartial wg;
    for (Index blk = 0; blk < block_count(n); ++blk) wg.merge(net.weight_grad_parts[blk]);
    if (wg.sumsq > 0) {  // 0 when the layer's input is all zeros: no gradient, and no sign
      st.grad_weight_log10 = 0.5 * std::log10(wg.sumsq) + scale - std::log10(double(square_scale));
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
      for_each_block_or_stop(n_in, s.threads, [&](Index blk) {
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
