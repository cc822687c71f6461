#include "theory/batchnorm_theory.h"

#include <fmt/format.h>

namespace gf {

double batchnorm_grad2_growth(const Phi& phi) {
  const Moments1 m = expect1(phi, 0, 1);
  return m.dphi2 / (m.phi2 - m.phi * m.phi);
}

std::string batchnorm_theory_note(const Phi& phi) {
  return fmt::format(
      "--norm batch: each unit is normalised over the batch, so u ~ N(0, 1) whatever sigma_w2 and the biases, "
      "and the squared gradient grows by E[phi'(u)^2] / Var[phi(u)] = {:.4f} per layer towards the input for {} "
      "whatever the init (Yang et al. 2019's gradient explosion, in their large-batch limit: pi/(pi-1) = 1.4669 "
      "for relu); at a finite batch B the samples' coupling adds O(1/B), about 1% at B = 128",
      batchnorm_grad2_growth(phi), phi.act ? phi.act->name : "?");
}

}  // namespace gf
