#include "train/dataset.h"

#include <cmath>

namespace gf {

std::vector<Index> class_counts(const std::vector<std::uint32_t>& labels, Index classes) {
  std::vector<Index> counts(static_cast<std::size_t>(classes), 0);
  for (std::uint32_t y : labels) ++counts[y];
  return counts;
}

void scale_features(Dataset& d, FeatureScaling s) {
  if (s == FeatureScaling::none || d.n_train() == 0) return;
  for (Index j = 0; j < d.features; ++j) {
    // x -> (x / unit - shift) * scale. unit is 1, unless the statistics overflow in double
    // (values near 1e300 square to inf): then the column is first divided by its largest size.
    auto fit = [&](double unit, double& shift, double& scale) {
      const auto col = d.x_train.col(j).array() / unit;
      if (s == FeatureScaling::standardize) {
        shift = col.mean();
        const double sd = std::sqrt((col - shift).square().mean());
        scale = sd > 0 ? 1 / sd : 1;  // a constant feature stays constant (at 0)
      } else {
        const double lo = col.minCoeff(), hi = col.maxCoeff();
        const double range = hi > lo ? hi - lo : 1;
        shift = s == FeatureScaling::positive ? lo : 0.5 * (lo + hi);
        scale = (s == FeatureScaling::positive ? 1 : 2) / range;
      }
      return std::isfinite(shift) && std::isfinite(scale) && scale > 0;
    };
    double unit = 1, shift = 0, scale = 1;
    if (!fit(unit, shift, scale)) {
      unit = d.x_train.col(j).cwiseAbs().maxCoeff();
      if (!(unit > 0) || !std::isfinite(unit) || !fit(unit, shift, scale)) fit(unit = 1, shift, scale);
    }
    auto apply = [&](Mat<double>& x) { x.col(j) = (x.col(j).array() / unit - shift) * scale; };
    apply(d.x_train);
    if (d.n_test() > 0) apply(d.x_test);
  }
}

}  // namespace gf
