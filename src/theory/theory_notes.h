#pragma once
// The sentences `theory` and `analyze --theory` print beside their numbers for what a plain
// stack's mean field does not cover by itself: residual blocks and norms. One text each, so the
// two commands say the same thing.
#include <string>
#include <string_view>

#include "core/layer_op.h"
#include "theory/gaussian_expect.h"

namespace gf {

// Residual blocks (Yang & Schoenholz 2017). `which` names the blocks ("residual blocks of 2
// layers, alpha 1"); `tail` ends the sentence ("; the per-block figures are below", or "").
std::string residual_theory_note(std::string_view which, std::string_view tail);

// --norm batch, layer or rms: u = N(h) and the gradient's factor across the norm; batch is
// batchnorm_theory_note, whose closed form needs neither q_star, chi_1, `at` nor `tail`. q_star and chi_1 are the mean field's (q* is u's variance), chi_1 `at` a
// width (" at width 256", or "" where layers differ).
std::string norm_theory_note(NormKind norm, const Phi& phi, double q_star, double chi_1, std::string_view at,
                             std::string_view tail);

// --norm layer|rms with --residual K: one norm per block at `position` (Xiong et al. 2020). Pre:
// the branch reads u = N(s), so the stream grows linearly and each block's gradient factor is
// 1 + alpha^2 chi_branch / E s^2; post: the stream is renormalised and the factor is
// (1 + alpha^2 chi_branch) / E (s + alpha F)^2. `tail` as above.
std::string residual_norm_theory_note(NormKind norm, NormPosition position, std::string_view tail);

// Why `theory` and `analyze --theory` refuse --norm batch with --residual K (one text for both).
// `also`: another way out the command offers, before "drop --residual" (analyze: "drop --theory, or ").
std::string residual_batchnorm_refusal(Index residual, std::string_view also = "or ");

}  // namespace gf
