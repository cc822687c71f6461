#include "core/layer.h"

#include <fmt/format.h>
#include <limits>
#include <type_traits>

#include "base/blocks.h"
#include "base/reduce.h"

#ifdef GRADFLOW_OPENBLAS
extern "C" void openblas_set_num_threads(int);
#endif

namespace gf {

#ifdef GRADFLOW_OPENBLAS
// Built with -DGRADFLOW_OPENBLAS=ON, Eigen hands its products to OpenBLAS. OpenBLAS must not
// thread: each product is one of gradflow's fixed blocks, already on its own thread, and a
// product split by OpenBLAS's own thread count could round differently (parallel.h).
namespace {
[[maybe_unused]] const bool kBlasSingleThreaded = (openblas_set_num_threads(1), true);
}  // namespace
#endif

namespace {
// The fused f32 sums below (reduce::sum_of_terms) are of f32 squares, exact in double, so whether
// the compiler contracts acc + v*v into an FMA cannot change a bit; f64 squares round, and f64
// keeps the separate passes (a fused f64 version moved the last digit of a golden).
template <class T>
void preact(ConstMatRef<T> a_prev, ConstWeightsRef<T> W_rows, ConstVecRef<T> b_seg, MatRef<T> h) {
  h.noalias() = a_prev * W_rows.transpose();
  h.rowwise() += b_seg.transpose();
}

// a = phi(h), d = phi'(h) over h, and the block's statistics with ||W rows||^2.
template <class T>
ForwardPartial activate_block(const Activation& act, double param, const SaturationTest& sat,
                              ConstWeightsRef<T> W_rows, MatRef<T> h_d, MatRef<T> a) {
  ForwardPartial p = activation_forward_block<T>(act, param, sat, h_d, a);
  for (Index r = 0; r < W_rows.rows(); ++r)  // row by row: a row is contiguous, the block may not be
    p.weight_sumsq += reduce::sum_squares(W_rows.row(r).data(), W_rows.cols());
  return p;
}
}  // namespace

SaturationTest saturation_test(const Activation& act, double param, double sat_eps,
                               std::optional<double> saturated_when) {
  SaturationTest t;
  t.slope_below = sat_eps * act.max_slope(param);
  if (saturated_when && act.range.bounded()) {
    const double centre = 0.5 * (act.range.lo + act.range.hi), half = 0.5 * (act.range.hi - act.range.lo);
    t.by_value = true;
    t.value_lo = centre - *saturated_when * half;
    t.value_hi = centre + *saturated_when * half;
  }
  return t;
}

std::string saturation_text(const SaturationTest& t, const Activation& act, double sat_eps) {
  if (!t.by_value) return fmt::format("slope below {:g} of the maximum", sat_eps);
  if (t.value_lo == -t.value_hi) return fmt::format("|{}| above {:g}", act.name, t.value_hi);
  return fmt::format("{} below {:g} or above {:g}", act.name, t.value_lo, t.value_hi);
}

template <class T>
ForwardPartial layer_forward_block(const Activation& act, double param, const SaturationTest& sat,
                                   ConstMatRef<T> a_prev, ConstWeightsRef<T> W_rows,
                                   ConstVecRef<T> b_seg, MatRef<T> h_d, MatRef<T> a) {
  preact<T>(a_prev, W_rows, b_seg, h_d);
  return activate_block<T>(act, param, sat, W_rows, h_d, a);
}

template <class T>
void layer_forward_group(const Activation& act, double param, const SaturationTest& sat, ConstMatRef<T> a_prev,
                         ConstWeightsRef<T> W_rows, ConstVecRef<T> b_seg, MatRef<T> h_d, MatRef<T> a,
                         std::span<ForwardPartial> parts) {
  preact<T>(a_prev, W_rows, b_seg, h_d);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const Index j0 = block_begin(static_cast<Index>(k)), cols = block_size(static_cast<Index>(k), h_d.cols());
    parts[k] = activate_block<T>(act, param, sat, W_rows.middleRows(j0, cols), h_d.middleCols(j0, cols),
                                 a.middleCols(j0, cols));
  }
}

template <class T>
ForwardPartial activation_forward_block(const Activation& act, double param, const SaturationTest& sat,
                                        MatRef<T> h_d, MatRef<T> a) {
  const Index B = h_d.rows(), cols = h_d.cols(), n = B * cols;
  ForwardPartial p;
  p.pairs = n;
  p.units = cols;
  p.preact = moments_of(h_d.data(), n);
  // A non-finite h makes its mean non-finite; only then are they counted.
  if (!std::isfinite(p.preact.mean))
    p.nonfinite = reduce::count(h_d.data(), n, [](T v) { return !std::isfinite(v); });
  act.kernels<T>().phi_and_slope(h_d.data(), a.data(), h_d.data(), n, param);
  p.act = moments_of(a.data(), n);

  const T threshold = static_cast<T>(sat.slope_below);
  const T lo = static_cast<T>(sat.value_lo), hi = static_cast<T>(sat.value_hi);
  const bool dead_zone = act.has_dead_zone(param);
  // Slopes below T's normal range: only smooth tails and leaky_relu's parameter can go there.
  // A zero in a dead zone is a true zero.
  const bool tiny_slopes = act.kernels<T>().slope_exponent != nullptr || act.uses_param;
  constexpr T kMinNormal = std::numeric_limits<T>::min();
  // A column without saturated slopes has none below the normal range, when saturation is judged
  // by slope with a threshold above that range; otherwise every column is searched.
  const bool slope_test_finds_tiny = !sat.by_value && threshold >= kMinNormal;
  for (Index j = 0; j < cols; ++j) {
    const T* dj = h_d.col(j).data();
    const Index flat = sat.by_value
                           ? reduce::count(a.col(j).data(), B, [lo, hi](T v) { return v < lo || v > hi; })
                           : reduce::count(dj, B, [threshold](T v) { return std::abs(v) < threshold; });
    p.saturated += flat;
    p.saturated_units += flat == B;
    if (tiny_slopes && (flat > 0 || !slope_test_finds_tiny))
      p.slope_underflow += reduce::count(
          dj, B, [dead_zone](T v) { return std::abs(v) < kMinNormal && (v != T(0) || !dead_zone); });
    if (dead_zone) {
      const Index zero = reduce::count(dj, B, [](T v) { return v == T(0); });
      p.inactive += zero;
      p.dead_units += zero == B;
    }
  }
  return p;
}

template <class T>
double preact_again_block(const Activation& act, ConstMatRef<T> a_prev, ConstWeightsRef<T> W_rows,
                          ConstVecRef<T> b_seg, MatRef<T> h_d) {
  preact<T>(a_prev, W_rows, b_seg, h_d);
  return act.kernels<T>().slope_exponent(h_d.data(), h_d.size());  // a block is contiguous (B rows)
}

template <class T>
Index scaled_slope_block(const Activation& act, double shift, MatRef<T> h_d) {
  act.kernels<T>().scaled_slope(h_d.data(), h_d.data(), h_d.size(), shift);
  return reduce::count(h_d.data(), h_d.size(), [](T v) { return std::abs(v) < std::numeric_limits<T>::min(); });
}

template <class T>
double preact_grad_block(ConstMatRef<T> d_a, ConstMatRef<T> d, MatRef<T> d_h) {
  double sumsq = 0;
  if constexpr (std::is_same_v<T, float>) {  // one pass: each d_h squared as it is written
    for (Index j = 0; j < d_h.cols(); ++j) {
      const T *x = d_a.col(j).data(), *y = d.col(j).data();
      T* out = d_h.col(j).data();
      sumsq += reduce::sum_of_terms(d_h.rows(), [x, y, out](Index i) {
        out[i] = x[i] * y[i];
        return static_cast<double>(out[i]) * static_cast<double>(out[i]);
      });
    }
  } else {
    d_h.array() = d_a.array() * d.array();
    for (Index j = 0; j < d_h.cols(); ++j) sumsq += reduce::sum_squares(d_h.col(j).data(), d_h.rows());
  }
  return sumsq;
}

template <class T>
void weight_grad_block(ConstMatRef<T> a_prev, ConstMatRef<T> d_h_cols, MatRef<T> d_W_T) {
  d_W_T.noalias() = a_prev.transpose() * d_h_cols;
}

template <class T>
WeightGradPartial weight_grad_stats(MatRef<T> d_W_T, T square_scale) {
  if (square_scale != T(1)) d_W_T *= square_scale;
  WeightGradPartial p;
  const Index fan_in = d_W_T.rows();
  p.rows = d_W_T.cols();
  p.fan_in = fan_in;
  for (Index i = 0; i < d_W_T.cols(); ++i) {  // column i of d_W^T = row i of d_W
    // sum_j sign(dW_ij) = #positive - #negative, an exact count; in f32 in the same pass as
    // the row's squares, while the row is in cache.
    const T* row = d_W_T.col(i).data();
    Index excess = 0;
    if constexpr (std::is_same_v<T, float>) {
      p.sumsq += reduce::sum_of_terms(fan_in, [row, &excess](Index j) {
        const T v = row[j];
        excess += (v > T(0)) - (v < T(0));
        return static_cast<double>(v) * static_cast<double>(v);
      });
    } else {
      p.sumsq += reduce::sum_squares(row, fan_in);
      for (Index j = 0; j < fan_in; ++j) excess += (row[j] > T(0)) - (row[j] < T(0));
    }
    p.sign_excess += std::abs(excess);
  }
  return p;
}

template <class T>
void input_grad_block(ConstMatRef<T> d_h, ConstWeightsRef<T> W_cols, T scale, MatRef<T> d_a_prev_cols) {
  d_a_prev_cols.noalias() = scale * (d_h * W_cols);
}

#define GF_INSTANTIATE(T)                                                                         \
  template ForwardPartial layer_forward_block<T>(const Activation&, double, const SaturationTest&, ConstMatRef<T>, \
                                                 ConstWeightsRef<T>, ConstVecRef<T>,       \
                                                 MatRef<T>, MatRef<T>);                               \
  template void layer_forward_group<T>(const Activation&, double, const SaturationTest&, ConstMatRef<T>,             \
                                       ConstWeightsRef<T>, ConstVecRef<T>, MatRef<T>, MatRef<T>,                     \
                                       std::span<ForwardPartial>);                                                   \
  template ForwardPartial activation_forward_block<T>(const Activation&, double, const SaturationTest&,       \
                                                      MatRef<T>, MatRef<T>);                                 \
  template double preact_again_block<T>(const Activation&, ConstMatRef<T>, ConstWeightsRef<T>,      \
                                        ConstVecRef<T>, MatRef<T>);                     \
  template Index scaled_slope_block<T>(const Activation&, double, MatRef<T>);                       \
  template double preact_grad_block<T>(ConstMatRef<T>, ConstMatRef<T>, MatRef<T>);                  \
  template void weight_grad_block<T>(ConstMatRef<T>, ConstMatRef<T>, MatRef<T>);                   \
  template WeightGradPartial weight_grad_stats<T>(MatRef<T>, T);                                    \
  template void input_grad_block<T>(ConstMatRef<T>, ConstWeightsRef<T>, T, MatRef<T>);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
