#include "core/engine.h"

#include <cmath>
#include <limits>
#include <omp.h>

#include "base/interrupt.h"
#include "base/parallel.h"
#include "base/reduce.h"
#include "core/layer.h"
#include "core/loss.h"

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
void rescale_slopes(const NetworkSpec& s, const Params<T>& p, Workspace<T>& net, int threads, Index l,
                    Eigen::Map<const RowMat<T>> W, LayerStats& st) {
  const Activation& act = *s.activation;
  const Index n = s.widths[l];
  if (!act.scaled_slope<T>()) return;
  Mat<T>& D = net.D[l];
  T top = 0;
  for (Index i = 0; i < D.size(); ++i) top = std::max(top, std::abs(D.data()[i]));
  if (top >= std::sqrt(std::numeric_limits<T>::min())) return;

  for_each_block(n, threads, [&](Index blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    net.sumsq_parts[blk] = preact_again_block<T>(act, net.A[l - 1], W.middleRows(c0, cols),
                                                 p.b[l].segment(c0, cols), D.middleCols(c0, cols));
  });
  double g_max = -std::numeric_limits<double>::infinity();
  for (Index blk = 0; blk < block_count(n); ++blk) g_max = std::max(g_max, net.sumsq_parts[blk]);
  // An integer shift, exact in T, so the kernels and the log scale agree on it to the bit.
  const double shift = static_cast<T>(std::round(-g_max));
  const bool usable = std::isfinite(shift) && std::abs(shift) < 1e30;
  for_each_block(n, threads, [&](Index blk) {
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
void forward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                  PassResult& out) {
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
    const auto W = layer_weights(s, p, l, ws.W_scratch);
    const Index n = s.widths[l];
    for_each_block_or_stop(n, policy.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      ws.forward_parts[blk] = layer_forward_block<T>(
          *s.activation, s.activation_param, sat, ws.A[l - 1], W.middleRows(c0, cols),
          p.b[l].segment(c0, cols), ws.D[l].middleCols(c0, cols), ws.A[l].middleCols(c0, cols));
    });
    ForwardPartial total;
    for (Index blk = 0; blk < block_count(n); ++blk) total.merge(ws.forward_parts[blk]);
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    set_forward_stats(st, total);
    if (total.nonfinite > 0) {
      out.overflow_layer = l;
      return;
    }
    // Training needs the slopes at true scale; only analyze's carried log scale can absorb a shift.
    if (total.slope_underflow > 0 && policy.analyze()) rescale_slopes(s, p, ws, policy.threads, l, W, st);
  }

  ws.Z.noalias() = ws.A[L] * p.W[L + 1].transpose();
  ws.Z.rowwise() += p.b[L + 1].transpose();  // analyze: 0
  if (!ws.Z.allFinite()) {
    out.overflow_layer = L + 1;
    return;
  }
  out.loss = loss_forward<T>(s.loss, ws.Z, ws.labels, ws.targets);
}

// analyze: the gradient is linear in the upstream gradient, so each layer's d h is divided by
// its norm before it goes further down, and log10 of the norms taken out is carried in `scale`:
// every norm is reported as log10(norm at unit scale) + scale, whatever the depth.
// train: the scale stays 1 and every d W, d b is stored.
template <class T>
void backward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                   PassResult& out) {
  const Index L = s.depth(), B = ws.batch;
  const bool analyze = policy.analyze();
  Params<T>* grads = policy.grads;
  GradientTap* tap = policy.tap;
  if (out.overflow_layer != 0) return;
  if (tap) {
    tap->d_h.assign(static_cast<std::size_t>(L + 1), {});
    tap->d_W.assign(static_cast<std::size_t>(L + 1), {});
  }

  loss_backward<T>(s.loss, ws.Z, ws.labels, ws.targets, ws.dZ);
  if (grads) {  // z = a_L W_head^T + b_head
    grads->W[L + 1].noalias() = ws.dZ.transpose() * ws.A[L];
    grads->b[L + 1] = ws.dZ.colwise().sum().transpose();
  }
  as_matrix(ws.grad_a, B, s.widths[L]).noalias() = ws.dZ * p.W[L + 1];
  double scale = 0;  // analyze: log10 of the factor divided out of the gradients so far

  for (Index l = L; l >= 1; --l) {
    throw_if_interrupted();
    LayerStats& st = out.layers[static_cast<std::size_t>(l - 1)];
    const Index n = s.widths[l], n_in = s.widths[l - 1];
    auto d_a = as_matrix(ws.grad_a, B, n);
    auto d_h = as_matrix(ws.grad_h, B, n);

    // d_h of a block, then at once that block's rows of d_W, while its d_h is still in cache.
    // analyze reports d_W only if the layer's gradient turns out finite and non-zero.
    const T square_scale = analyze ? square_scale_for(ws.A[l - 1]) : T(1);
    for_each_block_or_stop(n, policy.threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      auto d_h_cols = d_h.middleCols(c0, cols);
      ws.sumsq_parts[blk] =
          preact_grad_block<T>(d_a.middleCols(c0, cols), ws.D[l].middleCols(c0, cols), d_h_cols);
      if (grads) {
        MatRef<T> d_W_T = grads->W[l].middleRows(c0, cols).transpose();
        weight_grad_block<T>(ws.A[l - 1], d_h_cols, d_W_T);
        grads->b[l].segment(c0, cols) = d_h_cols.colwise().sum().transpose();
        if (policy.weight_stats) ws.weight_grad_parts[blk] = weight_grad_stats<T>(d_W_T);
      } else {
        MatRef<T> d_W_T =
            ws.dW_scratch[static_cast<std::size_t>(omp_get_thread_num())].topLeftCorner(n_in, cols);
        weight_grad_block<T>(ws.A[l - 1], d_h_cols, d_W_T);
        ws.weight_grad_parts[blk] = weight_grad_stats<T>(d_W_T, square_scale);
      }
    });
    WeightGradPartial wg;
    if (policy.weight_stats)
      for (Index blk = 0; blk < block_count(n); ++blk) wg.merge(ws.weight_grad_parts[blk]);

    double norm = 1;
    if (analyze) {
      double sumsq = 0;
      for (Index blk = 0; blk < block_count(n); ++blk) sumsq += ws.sumsq_parts[blk];
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
      if (wg.sumsq > 0) {  // 0 when the layer's input is all zeros: no gradient, and no sign
        st.grad_weight_log10 = 0.5 * std::log10(wg.sumsq) + scale - std::log10(double(square_scale));
        st.dw_sign_coherence = wg.coherence_sum / static_cast<double>(wg.rows);
      }
      if (tap) {
        const double unscale = std::pow(10.0, scale);
        tap->d_h[l] = d_h.template cast<double>() * unscale;
        tap->d_W[l] = (d_h.transpose() * ws.A[l - 1]).template cast<double>() * unscale;
      }
      norm = std::sqrt(sumsq);
    } else if (policy.weight_stats) {
      // The same counts as analyze's, divided once: exact, as training has always logged it
      // (analyze's per-row quotients can differ in the last bit; changing that moves its goldens).
      // An all-zero d W (a dead layer) has coherence 0 here.
      st.dw_sign_coherence = static_cast<double>(wg.sign_excess) / static_cast<double>(wg.rows * wg.fan_in);
    }

    if (l > 1) {
      const auto W = layer_weights(s, p, l, ws.W_scratch);
      auto d_a_prev = as_matrix(ws.grad_a, B, n_in);  // d_a of this layer is spent; reuse its buffer
      T inv_norm = static_cast<T>(1.0 / norm);
      if (!std::isfinite(inv_norm)) {  // 1/norm is beyond T's range: take it out in two halves
        inv_norm = static_cast<T>(std::pow(10.0, -0.5 * std::log10(norm)));
        d_h *= inv_norm;
      }
      for_each_block_or_stop(n_in, policy.threads, [&](Index blk) {
        const Index c0 = block_begin(blk), cols = block_size(blk, n_in);
        input_grad_block<T>(d_h, W.middleCols(c0, cols), inv_norm, d_a_prev.middleCols(c0, cols));
      });
    }
    scale += std::log10(norm);
  }

  if (!analyze) return;
  const double last = out.layers.back().grad_weight_log10;
  for (LayerStats& st : out.layers) st.grad_weight_rel_log10 = st.grad_weight_log10 - last;
}

template <class T>
Index count_errors(const Workspace<T>& ws) {
  Index errors = 0;
  for (Index i = 0; i < ws.batch; ++i) {
    Index k = 0;
    ws.Z.row(i).maxCoeff(&k);
    errors += static_cast<std::uint32_t>(k) != ws.labels[static_cast<std::size_t>(i)];
  }
  return errors;
}

#define GF_INSTANTIATE(T)                                                                                      \
  template void forward_pass<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, const PassPolicy<T>&,     \
                                PassResult&);                                                                  \
  template void backward_pass<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, const PassPolicy<T>&,    \
                                 PassResult&);                                                                 \
  template Index count_errors<T>(const Workspace<T>&);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
