// The notes `theory` and `analyze --theory` share: each carries the numbers it is given, the
// caller's ending, and for BatchNorm the closed form's own sentence.
#include <doctest/doctest.h>

#include "theory/batchnorm_theory.h"
#include "theory/theory_notes.h"

using namespace gf;

TEST_CASE("a norm's note names the norm and carries q*, chi_1 and the caller's ending") {
  const Phi tanh_phi = phi_of("tanh");
  for (const NormKind norm : {NormKind::layer, NormKind::rms}) {
    const std::string note = norm_theory_note(norm, tanh_phi, 0.9876, 1.2345, " at width 77", "; END");
    CHECK(note.find(norm == NormKind::layer ? "--norm layer:" : "--norm rms:") == 0);
    CHECK(note.find("variance 0.9876 ") != std::string::npos);
    CHECK(note.find("chi_1 = 1.234 at width 77 ") != std::string::npos);  // {:.4g}
    CHECK(note.ends_with("; END"));
  }
  // BatchNorm's factor does not depend on q* or chi_1 passed in: the closed form speaks.
  CHECK(norm_theory_note(NormKind::batch, tanh_phi, 1, 1, "", "") == batchnorm_theory_note(tanh_phi));
}

TEST_CASE("the residual note names the blocks it is given and ends as asked") {
  const std::string note = residual_theory_note("residual blocks of 2 layers, alpha 0.5", "; TAIL");
  CHECK(note.find("residual blocks of 2 layers, alpha 0.5 (Yang & Schoenholz 2017): ") == 0);
  CHECK(note.ends_with("as a plain stack; TAIL"));
}
