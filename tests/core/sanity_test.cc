// Two cases where the gradient's norm is known without any approximation.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"

using namespace gf;

TEST_CASE("identity with orthogonal weights preserves the gradient's norm exactly") {
  AnalysisConfig c;
  c.depth = 20;
  c.width = {128};
  c.batch = 16;
  c.init = "orthogonal";
  c.threads = 2;
  const RunResult r = run_one(c, *find_activation("identity"));
  const double last = r.pass.layers.back().grad_preact_log10;
  for (const LayerStats& l : r.pass.layers) CHECK(std::abs(l.grad_preact_log10 - last) < 1e-4);
}

TEST_CASE("relu with he_normal at width 2048 keeps the gradient's scale (chi_1 = 1)") {
  AnalysisConfig c;
  c.depth = 10;
  c.width = {2048};
  c.batch = 32;
  c.threads = 2;
  const RunResult r = run_one(c, *find_activation("relu"));
  const auto& l = r.pass.layers;
  const double per_layer = std::abs(l.back().grad_preact_log10 - l.front().grad_preact_log10) / (c.depth - 1);
  CHECK(per_layer < 0.02);
}
