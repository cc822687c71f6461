#include "core/stats.h"

#include "base/reduce.h"

namespace gf {

void Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double total = n + o.n, delta = o.mean - mean;
  mean += delta * (o.n / total);
  m2 += o.m2 + delta * delta * (n * o.n / total);
  n = total;
}

template <class T>
Moments moments_of(const T* x, Index n) {
  Moments m;
  if (n == 0) return m;
  // Two passes (the mean, then squared deviations from it): accurate when the mean is large
  // next to the spread, where sum(x^2) - n mean^2 would cancel.
  m.n = static_cast<double>(n);
  m.mean = reduce::sum(x, n) / m.n;
  const double mean = m.mean;
  m.m2 = reduce::sum(x, n, [mean](double v) { return (v - mean) * (v - mean); });
  return m;
}
template Moments moments_of<float>(const float*, Index);
template Moments moments_of<double>(const double*, Index);

void ForwardPartial::merge(const ForwardPartial& o) {
  weight_sumsq += o.weight_sumsq;
  preact.merge(o.preact);
  act.merge(o.act);
  pairs += o.pairs;
  units += o.units;
  saturated += o.saturated;
  inactive += o.inactive;
  saturated_units += o.saturated_units;
  dead_units += o.dead_units;
  nonfinite += o.nonfinite;
  slope_underflow += o.slope_underflow;
}

void WeightGradPartial::merge(const WeightGradPartial& o) {
  sumsq += o.sumsq;
  sign_excess += o.sign_excess;
  rows += o.rows;
  fan_in = o.fan_in;
}

void set_forward_stats(LayerStats& s, const ForwardPartial& p) {
  const auto pairs = static_cast<double>(p.pairs), units = static_cast<double>(p.units);
  s.preact_mean = p.preact.mean;
  s.preact_std = p.preact.std();
  s.act_mean = p.act.mean;
  s.act_std = p.act.std();
  s.saturated_frac = static_cast<double>(p.saturated) / pairs;
  s.inactive_frac = static_cast<double>(p.inactive) / pairs;
  s.saturated_units_frac = static_cast<double>(p.saturated_units) / units;
  s.dead_units_frac = static_cast<double>(p.dead_units) / units;
  s.slope_underflow_frac = static_cast<double>(p.slope_underflow) / pairs;
  s.slopes_lost = p.slope_underflow;
  s.weight_log10 = 0.5 * std::log10(p.weight_sumsq);
}

}  // namespace gf
