#pragma once
// What gradflow measures in one hidden layer, and the partial sums it is built from. Every sum
// is accumulated per block of units and merged in block order, so the result does not depend
// on how blocks were spread over threads.
#include <cmath>
#include <limits>

#include "base/tensor.h"

namespace gf {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Count, mean and sum of squared deviations; merged with Chan et al.'s pairwise update, which
// stays accurate when the mean is large next to the spread (relu with a large bias).
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void merge(const Moments& o);
  double std() const { return n > 0 ? std::sqrt(m2 / n) : kNaN; }
};
template <class T>
Moments moments_of(const T* x, Index n);

// One block of units of one layer's forward pass (W rows, h, phi(h), phi'(h)).
struct ForwardPartial {
  double weight_sumsq = 0;                       // ||W rows of the block||^2
  Moments preact, act;
  Index pairs = 0, units = 0;
  Index saturated = 0, inactive = 0;             // (sample, unit) pairs
  Index saturated_units = 0, dead_units = 0;     // units, on every sample of the batch
  Index nonfinite = 0;                           // pre-activations that overflowed
  Index slope_underflow = 0;  // pairs whose slope is not 0 but below T's normal range
  void merge(const ForwardPartial& o);
};

// One block of output units of d loss / d W: rows of d W, i.e. columns of d W^T.
struct WeightGradPartial {
  double sumsq = 0;          // squared Frobenius norm, at the scale of the block's d h
  Index sign_excess = 0;     // sum over rows of |sum_j sign(dW_ij)|: an exact count
  Index rows = 0, fan_in = 0;
  void merge(const WeightGradPartial& o);
  // The mean over rows of |sum_j sign(dW_ij)| / fan_in, one rounding from exact counts, so
  // analyze and train agree to the bit and no thread count can change it.
  double sign_coherence() const { return static_cast<double>(sign_excess) / static_cast<double>(rows * fan_in); }
};

// The per-layer record, of analyze and of train's log steps; metrics.h declares which output
// carries which field. Logs are NaN when the quantity is exactly 0
// or was not computed (the forward pass overflowed before this layer).
struct LayerStats {
  Index layer = 0, fan_in = 0, width = 0;
  double preact_mean = kNaN, preact_std = kNaN, act_mean = kNaN, act_std = kNaN;
  double saturated_frac = kNaN, saturated_units_frac = kNaN;
  double inactive_frac = kNaN, dead_units_frac = kNaN;
  double slope_underflow_frac = kNaN;
  double grad_preact_log10 = kNaN, grad_weight_log10 = kNaN, grad_weight_rel_log10 = kNaN;
  double weight_log10 = kNaN;
  double dw_sign_coherence = kNaN;
  double norm_grad_ratio_log10 = kNaN;  // dense_norm layers: log10 ||d loss / d h|| / ||d loss / d N(h)||
  double update_ratio_log10 = kNaN;  // train only: ||delta W_l|| / ||W_l|| of the step just taken
  // What the backward pass needs to know of the stored slopes (op_dense.cc): log10 of the factor
  // they carry (not 0 where underflowing slopes were computed again, scaled), and how many are
  // still below T's normal range.
  double slope_scale_log10 = 0;
  Index slopes_lost = 0;
};

void set_forward_stats(LayerStats& s, const ForwardPartial& p);

// The record of one residual block (op_residual.cc); metrics.h declares its fields
// (block_metrics). NaN where not computed.
struct BlockStats {
  Index block = 0, first_layer = 0, last_layer = 0;
  double stream_rms = kNaN;          // sqrt(mean of s^2) over the block's input stream
  double grad_stream_log10 = kNaN;   // log10 ||d loss / d s|| at the block's input
  double branch_ratio = kNaN;        // average channel variance of alpha F(s) / that of s
};

}  // namespace gf
