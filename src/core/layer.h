#pragma once
// The kernels of one dense layer, forward and backward side by side, each on one block of
// units (see parallel.h). Shapes: a_prev (B, n_in), W (n_out, n_in) row-major, b (n_out),
// h, a, d (B, n_out); a block is `cols` consecutive units starting at unit c0.
#include <optional>
#include <span>
#include <string>

#include "base/tensor.h"
#include "core/activation.h"
#include "core/stats.h"

namespace gf {

// When a unit-sample counts as saturated: its slope |phi'(h)| is below slope_below (--sat-eps x
// phi's maximum slope), or, by value (--saturated-when V, for a bounded activation), its output
// lies outside [value_lo, value_hi], the middle V of phi's range: |tanh(h)| > V. For tanh and
// sigmoid the two agree when sat_eps = 1 - V^2 (slope = 1 - tanh^2, and 4 sigmoid (1 - sigmoid)).
struct SaturationTest {
  double slope_below = 0;
  bool by_value = false;
  double value_lo = 0, value_hi = 0;
};
// Unbounded activations keep the slope test even when `saturated_when` is set.
SaturationTest saturation_test(const Activation& act, double param, double sat_eps,
                               std::optional<double> saturated_when);
// For sentences: "slope below 0.1 of the maximum", "|tanh| above 0.97".
std::string saturation_text(const SaturationTest& t, const Activation& act, double sat_eps);

template <class T>
using ConstWeightsRef = Eigen::Ref<const RowMat<T>>;

// h = a_prev W^T + b; a = phi(h); d = phi'(h), written over h. Returns the block's statistics.
// W_rows = W[c0:c0+cols, :], b_seg = b[c0:c0+cols], h_d and a = columns c0:c0+cols.
template <class T>
ForwardPartial layer_forward_block(const Activation& act, double param, const SaturationTest& sat,
                                   ConstMatRef<T> a_prev, ConstWeightsRef<T> W_rows,
                                   ConstVecRef<T> b_seg, MatRef<T> h_d, MatRef<T> a);

// The same for a group of whole blocks (base/blocks.h) in one product: columns j0.. of the
// group are its block k = j0 / kBlockCols, whose statistics go to parts[k], with the bits
// layer_forward_block gives that block alone; parts has one entry per block of the group.
template <class T>
void layer_forward_group(const Activation& act, double param, const SaturationTest& sat, ConstMatRef<T> a_prev,
                         ConstWeightsRef<T> W_rows, ConstVecRef<T> b_seg, MatRef<T> h_d, MatRef<T> a,
                         std::span<ForwardPartial> parts);

// The same after the product: a = phi(h), d = phi'(h) written over h, and the statistics but
// weight_sumsq (a dense_norm layer's h is already normalised: core/op_norm).
template <class T>
ForwardPartial activation_forward_block(const Activation& act, double param, const SaturationTest& sat,
                                        MatRef<T> h_d, MatRef<T> a);

// For a layer whose slopes underflow T (op_dense.cc): h again, the same product as
// layer_forward_block's, written over the block's slopes; returns max g(h) (activation.h).
template <class T>
double preact_again_block(const Activation& act, ConstMatRef<T> a_prev, ConstWeightsRef<T> W_rows,
                          ConstVecRef<T> b_seg, MatRef<T> h_d);

// Then phi'(h) e^shift over h; returns how many of them are still below T's normal range.
template <class T>
Index scaled_slope_block(const Activation& act, double shift, MatRef<T> h_d);

// Backward of a = phi(h): d_h = d_a * phi'(h), elementwise. Returns sum(d_h^2).
template <class T>
double preact_grad_block(ConstMatRef<T> d_a, ConstMatRef<T> d, MatRef<T> d_h);

// Backward of h = a_prev W^T, for W: d_W[c0:c0+cols, :]^T = a_prev^T d_h[:, c0:c0+cols], into
// d_W_T (n_in, cols): `train` points it at the rows of its stored gradient (a row-major block
// of d_W seen transposed), `analyze` at a per-thread scratch block, so the whole d_W never exists.
template <class T>
void weight_grad_block(ConstMatRef<T> a_prev, ConstMatRef<T> d_h_cols, MatRef<T> d_W_T);

// That block reduced to its norm and sign coherence, for both commands.
// `square_scale` (a power of 2) multiplies d_W_T (in place) before its squares are summed in
// double, so that tiny activations (f64 below 1e-154) do not make them underflow; the norm
// carries it. Only `analyze`, whose d_W_T is scratch, passes anything but 1.
template <class T>
WeightGradPartial weight_grad_stats(MatRef<T> d_W_T, T square_scale = T(1));

// Backward of h = a_prev W^T, for a_prev: d_a_prev[:, c0:c0+cols] = scale * d_h W[:, c0:c0+cols].
// `scale` carries the renormalisation of the backward pass (see op_dense.cc).
template <class T>
void input_grad_block(ConstMatRef<T> d_h, ConstWeightsRef<T> W_cols, T scale, MatRef<T> d_a_prev_cols);

}  // namespace gf
