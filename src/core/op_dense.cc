#include "core/op_dense.h"

#include <cmath>
#include <limits>
#include <span>

#include "base/parallel.h"
#include "base/reduce.h"
#include "core/dropout.h"
#include "core/layer.h"

namespace gf {

namespace {

// A layer whose slopes underflow T (f32: below 1.2e-38) would pass zeros, or subnormals with
// few digits, to the gradient. Where even the layer's largest slope is that small (every unit
// deep in a tail: tanh with a bias of 100 has slopes of 10^-87), the slopes are computed again
// as phi'(h) e^shift with shift = -max g(h) (activation.h), so that the largest is of order 1,
// and the backward pass carries the factor in its log scale: the gradient stays exact. Where
// the largest slope is not small, the underflowing ones hardly count next to it, and the
// backward pass bounds what they can carry (dense_backward).
template <class T>
void rescale_slopes(const LayerOp& op, const Params<T>& p, Workspace<T>& net, int threads, Index l,
                    Eigen::Map<const RowMat<T>> W, LayerStats& st) {
  const Activation& act = *op.activation;
  const Index n = op.width;
  if (!act.kernels<T>().scaled_slope) return;
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
      act.kernels<T>().phi_and_slope(h_d.data(), a.data(), h_d.data(), h_d.size(), op.activation_param);
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
bool finish_forward(Pass<T>& pass, Index l, ForwardPartial& total) {
  for (Index blk = 0; blk < block_count(pass.s.width(l)); ++blk) total.merge(pass.ws.forward_parts[blk]);
  set_forward_stats(pass.out.layers[static_cast<std::size_t>(l - 1)], total);
  if (total.nonfinite > 0) {
    pass.out.overflow_layer = l;
    return false;
  }
  return true;
}

template <class T>
bool dense_forward(Pass<T>& pass, Index l) {
  const NetworkSpec& s = pass.s;
  const Params<T>& p = pass.p;
  Workspace<T>& ws = pass.ws;
  const LayerOp& op = s.op(l);
  const SaturationTest sat = saturation_test(*op.activation, op.activation_param, s.sat_eps, s.saturated_when);
  const auto W = layer_weights(s, p, l, ws.W_scratch);
  const Index n = op.width;
  for_each_group_or_stop(n, pass.policy.threads, [&](const BlockGroup& g) {
    layer_forward_group<T>(*op.activation, op.activation_param, sat, ws.A[l - 1], W.middleRows(g.c0, g.cols),
                           p.b[l].segment(g.c0, g.cols), ws.D[l].middleCols(g.c0, g.cols),
                           ws.A[l].middleCols(g.c0, g.cols),
                           std::span(ws.forward_parts).subspan(static_cast<std::size_t>(g.first),
                                                               static_cast<std::size_t>(g.last - g.first)));
  });
  ForwardPartial total;
  if (!finish_forward(pass, l, total)) return false;
  LayerStats& st = pass.out.layers[static_cast<std::size_t>(l - 1)];
  // Training needs the slopes at true scale; only analyze's carried log scale can absorb a shift.
  if (total.slope_underflow > 0 && pass.policy.analyze()) rescale_slopes(op, p, ws, pass.policy.threads, l, W, st);
  dropout_forward(pass, l);  // after the statistics: they describe phi's input, as without dropout
  return true;
}

// analyze: the gradient is linear in the upstream gradient, so each layer's d h is divided by
// its norm before it goes further down, and log10 of the norms taken out is carried in
// pass.scale: every norm is reported as log10(norm at unit scale) + scale, whatever the depth.
// train: the scale stays 0 and every d W, d b is stored.
template <class T>
bool dense_backward(Pass<T>& pass, Index l) {
  const NetworkSpec& s = pass.s;
  const Params<T>& p = pass.p;
  Workspace<T>& ws = pass.ws;
  const PassPolicy<T>& policy = pass.policy;
  const bool analyze = policy.analyze();
  Params<T>* grads = policy.grads;
  GradientTap* tap = policy.tap;
  const Index B = ws.batch;
  LayerStats& st = pass.out.layers[static_cast<std::size_t>(l - 1)];
  const Index n = s.width(l), n_in = s.width(l - 1);
  auto d_a = as_matrix(ws.grad_a, B, n);
  auto d_h = as_matrix(ws.grad_h, B, n);

  // d_h of a group of blocks, then at once the group's rows of d_W (one product), while its d_h
  // is still in cache; the sums stay per block. analyze reports d_W only if the layer's gradient
  // turns out finite and non-zero.
  const T square_scale = analyze ? square_scale_for(ws.A[l - 1]) : T(1);
  for_each_group_or_stop(n, policy.threads, [&](const BlockGroup& g) {
    for (Index blk = g.first; blk < g.last; ++blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      ws.sumsq_parts[blk] =
          preact_grad_block<T>(d_a.middleCols(c0, cols), ws.D[l].middleCols(c0, cols), d_h.middleCols(c0, cols));
    }
    auto d_h_cols = d_h.middleCols(g.c0, g.cols);
    MatRef<T> d_W_T = grads ? MatRef<T>(grads->W[l].middleRows(g.c0, g.cols).transpose())
                            : MatRef<T>(ws.dW_scratch[static_cast<std::size_t>(team_thread_index())].topLeftCorner(
                                  n_in, g.cols));
    weight_grad_block<T>(ws.A[l - 1], d_h_cols, d_W_T);
    if (grads) grads->b[l].segment(g.c0, g.cols) = d_h_cols.colwise().sum().transpose();
    if (!grads || policy.record_stats)
      for (Index blk = g.first; blk < g.last; ++blk)
        ws.weight_grad_parts[blk] =
            weight_grad_stats<T>(d_W_T.middleCols(block_begin(blk) - g.c0, block_size(blk, n)),
                                 grads ? T(1) : square_scale);  // train's stored d W is never scaled
  });
  WeightGradPartial wg;
  if (policy.record_stats)
    for (Index blk = 0; blk < block_count(n); ++blk) wg.merge(ws.weight_grad_parts[blk]);

  double norm = 1;
  if (analyze) {
    double sumsq = 0;
    for (Index blk = 0; blk < block_count(n); ++blk) sumsq += ws.sumsq_parts[blk];
    if (!std::isfinite(sumsq)) {
      pass.out.overflow_layer = l;
      return false;
    }
    // Each slope still below T's normal range is off by less than that number, so together they
    // change d_h by less than min_normal |d_a| (both at the pass's current scale).
    // Where that could be more than kExactTolerance of the norm, no figure is given from
    // here down: gradflow never prints a gradient it cannot vouch for.
    if (st.slopes_lost > 0) {
      const double lost =
          static_cast<double>(std::numeric_limits<T>::min()) * std::sqrt(reduce::sum_squares(d_a.data(), d_a.size()));
      if (!(lost <= kExactTolerance * std::sqrt(sumsq))) {
        pass.out.inexact_layer = l;
        return false;
      }
    }
    if (sumsq == 0) {  // every unit of this layer is flat on every sample: nothing flows below
      if (pass.in_branch) {  // but a residual stream's own path still does (op_residual.cc)
        as_matrix(ws.grad_a, B, n_in).setZero();
        pass.scale = -kInf;
        return true;
      }
      pass.out.zero_grad_layer = l;
      return false;
    }
    pass.scale += st.slope_scale_log10;  // the factor this layer's stored slopes carry
    // A scale of -inf: a residual branch scaled by alpha = 0, whose gradient is exactly 0 (NaN logs).
    if (pass.scale > -kInf) {
      st.grad_preact_log10 = 0.5 * std::log10(sumsq) + pass.scale;
      if (wg.sumsq > 0) {  // 0 when the layer's input is all zeros: no gradient, and no sign
        st.grad_weight_log10 = 0.5 * std::log10(wg.sumsq) + pass.scale - std::log10(double(square_scale));
        st.dw_sign_coherence = wg.sign_coherence();
      }
    }
    if (tap) {
      const double unscale = std::pow(10.0, pass.scale);
      tap->d_h[l] = d_h.template cast<double>() * unscale;
      tap->d_W[l] = (d_h.transpose() * ws.A[l - 1]).template cast<double>() * unscale;
    }
    norm = std::sqrt(sumsq);
  } else if (policy.record_stats) {
    st.dw_sign_coherence = wg.sign_coherence();  // an all-zero d W (a dead layer): 0 here
  }

  // Layer 1's input is the data, which needs no gradient, unless it is also a residual stream.
  if (l > 1 || s.op(l).kind == OpKind::branch_in) {
    const auto W = layer_weights(s, p, l, ws.W_scratch);
    auto d_a_prev = as_matrix(ws.grad_a, B, n_in);  // d_a of this layer is spent; reuse its buffer
    T inv_norm = static_cast<T>(1.0 / norm);
    if (!std::isfinite(inv_norm)) {  // 1/norm is beyond T's range: take it out in two halves
      inv_norm = static_cast<T>(std::pow(10.0, -0.5 * std::log10(norm)));
      d_h *= inv_norm;
    }
    for_each_group_or_stop(n_in, policy.threads, [&](const BlockGroup& g) {
      input_grad_block<T>(d_h, W.middleCols(g.c0, g.cols), inv_norm, d_a_prev.middleCols(g.c0, g.cols));
    });
  }
  pass.scale += std::log10(norm);
  return true;
}

// --jacobian: J_l = diag(phi_l'(h_l)) W_l J_{l-1} at each of the walk's samples, in f64 (the
// slopes and weights of either dtype are exact in f64); with dropout the stored slopes carry the
// sample's mask m / (1 - p) (core/dropout.h). Column blocks of J are independent, so
// they go to the threads by groups (parallel.h); each group's product has the same shape for any
// thread count.
template <class T>
void dense_jacobian(JacobianWalk<T>& walk, Index l) {
  const NetworkSpec& s = walk.s;
  const Index n = s.width(l);
  const RowMat<double> W = layer_weights(s, walk.p, l, walk.ws.W_scratch).template cast<double>();
  for (Index k = 0; k < walk.samples(); ++k) {
    const Vec<double> slope = walk.ws.D[l].row(k).transpose().template cast<double>();  // (n)
    Mat<double>& out = walk.next[static_cast<std::size_t>(k)];
    const Mat<double>& in = walk.J[static_cast<std::size_t>(k)];
    const Index n0 = in.cols();  // the input's width, or a partial Jacobian's layer's
    out.resize(n, n0);
    for_each_group_or_stop(n0, walk.threads, [&](const BlockGroup& g) {
      auto o = out.middleCols(g.c0, g.cols);
      o.noalias() = W * in.middleCols(g.c0, g.cols);
      o.array().colwise() *= slope.array();
    });
  }
  // Slopes stored with their scale taken out (rescale_slopes) carry it here, as in backward.
  walk.log10_scale += walk.pass.layers[static_cast<std::size_t>(l - 1)].slope_scale_log10;
}

template bool finish_forward<float>(Pass<float>&, Index, ForwardPartial&);
template bool finish_forward<double>(Pass<double>&, Index, ForwardPartial&);
template bool dense_forward<float>(Pass<float>&, Index);
template bool dense_forward<double>(Pass<double>&, Index);
template bool dense_backward<float>(Pass<float>&, Index);
template bool dense_backward<double>(Pass<double>&, Index);
template void dense_jacobian<float>(JacobianWalk<float>&, Index);
template void dense_jacobian<double>(JacobianWalk<double>&, Index);

}  // namespace gf
