#pragma once
// Free probability's prediction for the spectrum of J J^T, J = d a_L / d x (analyze --jacobian
// --theory). J = prod_l D_l W_l with D_l = diag(phi'(h_l)); taking the D_l and W_l W_l^T as
// freely independent (Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid in deep
// learning through dynamical isometry", eqs. 12-17; Pennington, Schoenholz & Ganguli 2018, "The
// emergence of spectral universality in deep networks"), S-transforms multiply, so moments of
// J J^T follow from each factor's:
//   mean of s^2        m_1 = prod_l sigma_w2_l mu_1(q_l)              (= chi_1^L at a fixed point)
//   variance / mean^2  sum_l (mu_2(q_l) / mu_1(q_l)^2 - 1 - s_1)     (= L (mu_2/mu_1^2 - 1 - s_1))
// with mu_k = E[phi'(h)^(2k)], h ~ N(bias, q_l) (the mean-field variances), and s_1 the first
// coefficient of W W^T's S-transform: -1 for Gaussian (any iid) weights, 0 for orthogonal.
// Since for free A, B m_2/m_1^2 - 1 adds, the second line holds off criticality too; at
// criticality (m_1 = 1) it is PSG's sigma^2_{JJ^T}: linear Gaussian L, linear orthogonal 0,
// relu Gaussian 2L, relu orthogonal L. Infinite width, square layers.
#include "theory/mean_field.h"

namespace gf {

struct JacobianTheory {
  double s2_mean_log10 = kNaN;
  double s2_var_rel = kNaN;
};

// NaN where the layers are not square (W W^T's S-transform is then another).
JacobianTheory predict_jacobian(const MeanFieldModel& m, const std::vector<LayerTheory>& layers, bool orthogonal);

}  // namespace gf
