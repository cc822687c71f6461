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

}  // namespace gf
