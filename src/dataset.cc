#include "dataset.h"

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
    const auto col = d.x_train.col(j).array();
    double shift = 0, scale = 1;  // x -> (x - shift) * scale
    if (s == FeatureScaling::standardize) {
      shift = col.mean();
      const double sd = std::sqrt((col - shift).square().mean());
      scale = sd > 0 ? 1 / sd : 1;  // a constant feature stays constant (at 0)
    } else {
      const double lo = col.minCoeff(), hi = col.maxCoeff();
      const double range = hi > lo ? hi - lo : 1;
      if (s == FeatureScaling::positive) {
        shift = lo;
        scale = 1 / range;
      } else {
        shift = 0.5 * (lo + hi);
        scale = 2 / range;
      }
    }
    d.x_train.col(j) = (d.x_train.col(j).array() - shift) * scale;
    if (d.n_test() > 0) d.x_test.col(j) = (d.x_test.col(j).array() - shift) * scale;
  }
}

}  // namespace gf
