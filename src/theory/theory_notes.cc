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

std::string residual_norm_theory_note(NormKind norm, NormPosition position, std::string_view tail) {
  if (position == NormPosition::pre)
    return fmt::format(
        "--norm {} before each branch (Pre-LN, Xiong et al. 2020): the branch reads u = N(s) of unit second moment "
        "whatever the stream, so every block adds the same alpha^2 E[F^2] (the stream's E s^2 grows linearly), and "
        "the stream gradient's squared norm grows by 1 + alpha^2 chi_branch / E s^2 per block towards the input: "
        "less and less as the stream grows; the norm's 1/n share is kept, the correlation map is not modelled{}",
        norm_name(norm), tail);
  return fmt::format(
      "--norm {} after each block (Post-LN, Xiong et al. 2020): s' = N(s + alpha F(s)) has unit second moment at "
      "every block, and the stream gradient's squared norm changes by (1 + alpha^2 chi_branch) / E[(s + alpha F)^2] "
      "per block, the same factor at every block after the first: geometric in depth; the correlation map is not "
      "modelled{}",
      norm_name(norm), tail);
}

std::string residual_batchnorm_refusal(Index residual, std::string_view also) {
  return fmt::format(
      "--norm batch with --residual {}: the mean field of BatchNorm inside residual blocks is not implemented "
      "(it normalises each unit over the batch, coupling the samples of the stream block after block, which the "
      "model of LayerNorm and RMSNorm in residual blocks leaves out); use --norm layer or rms, {}drop --residual",
      residual, also);
}

}  // namespace gf
