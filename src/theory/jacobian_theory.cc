#include "theory/jacobian_theory.h"

#include <cmath>

#include "theory/gaussian_expect.h"

namespace gf {

JacobianTheory predict_jacobian(const MeanFieldModel& m, const std::vector<LayerTheory>& layers, bool orthogonal) {
  JacobianTheory t;
  for (std::size_t i = 1; i < m.widths.size(); ++i)
    if (m.widths[i] != m.widths[0]) return t;
  const double s_1 = orthogonal ? 0.0 : -1.0;
  double log10_mean = 0, var_rel = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Moments1 e = expect1(m.phi, m.bias, layers[i].q);
    log10_mean += std::log10(m.sigma_w2[i] * e.dphi2);
    var_rel += e.dphi4 / (e.dphi2 * e.dphi2) - 1 - s_1;
  }
  t.s2_mean_log10 = log10_mean;
  t.s2_var_rel = var_rel;
  return t;
}

}  // namespace gf
