// What run_one adds to a run's summary from the config alone.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/analysis.h"

using namespace gf;

TEST_CASE("settings that change nothing in a run are named in a note, not refused") {
  AnalysisConfig c;
  c.activations = {"tanh"};
  c.depth = 2;
  c.width = {8};
  c.batch = 4;
  auto notes_of = [&] { return run_one(c, *find_activation("tanh")).summary.notes; };
  auto mentions = [](const std::vector<std::string>& notes, const char* flag) {
    return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) { return n.find(flag) != n.npos; });
  };
  CHECK(!mentions(notes_of(), "--residual-scale"));
  c.residual_scale = "0.5";
  c.jacobian_samples = 2;
  CHECK(mentions(notes_of(), "--residual-scale 0.5 has no effect"));
  CHECK(mentions(notes_of(), "--jacobian-samples 2 has no effect"));
  c.norm_position = NormPosition::post;
  c.norm_eps = 0.1;
  CHECK(mentions(notes_of(), "--norm-position post has no effect on a plain stack"));
  CHECK(mentions(notes_of(), "--norm-eps 0.1 has no effect without --norm"));
  c.residual = 2;  // now each setting means something
  c.jacobian = true;
  CHECK(mentions(notes_of(), "--norm-position post has no effect without --norm"));
  c.norm = NormKind::layer;
  CHECK(!mentions(notes_of(), "has no effect"));
}
