#include "theory/theory_notes.h"

#include <fmt/format.h>

#include "core/enum_names.h"
#include "theory/batchnorm_theory.h"

namespace gf {

std::string residual_theory_note(std::string_view which, std::string_view tail) {
  return fmt::format(
      "{} (Yang & Schoenholz 2017): the stream does not settle at q* but adds alpha^2 E[F^2] per block, and each "
      "block's gradient factor is 1 + alpha^2 prod chi; q* and chi_1 above are those of the branches' layers as a "
      "plain stack{}",
      which, tail);
}

std::string norm_theory_note(NormKind norm, const Phi& phi, double q_star, double chi_1, std::string_view at,
                             std::string_view tail) {
  if (norm == NormKind::batch) return batchnorm_theory_note(phi);
  return fmt::format(
      "--norm {}: u = N(h) has variance {:.4g} at every layer whatever sigma_w2 (q* by construction), and the "
      "gradient's factor per layer is sigma_w2 E[phi'(u)^2] / sigma^2 across the next layer's norm, chi_1 = {:.4g}{} "
      "(E[phi'^2] / E[phi^2] as width grows, without biases: 1 for relu); the correlation map through a norm is "
      "not modelled{}",
      norm_name(norm), q_star, chi_1, at, tail);
}

}  // namespace gf
