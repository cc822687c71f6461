// Exact at any depth: a 500-layer sigmoid stack has first-layer gradients near 10^-300, beyond
// f32's range (1e-38) and near f64's. The renormalised backward pass must report them finite,
// decaying at the same rate deep and shallow, and the same in f32 as in f64.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"

using namespace gf;

namespace {

RunResult deep_sigmoid(Dtype dtype) {
  AnalysisConfig c;
  c.depth = 500;
  c.width = {64};
  c.batch = 32;
  c.dtype = dtype;
  c.threads = 2;
  return run_one(c, *find_activation("sigmoid"));
}

// Mean decrement of grad_weight_log10 per layer over layers [from, to).
double rate(const RunResult& r, int from, int to) {
  return (r.pass.layers[to - 1].grad_weight_log10 - r.pass.layers[from - 1].grad_weight_log10) / (to - from);
}

}  // namespace

TEST_CASE("sigmoid, depth 500: every gradient finite, a steady decay, f32 agrees with f64") {
  const RunResult f32 = deep_sigmoid(Dtype::f32), f64 = deep_sigmoid(Dtype::f64);
  for (const RunResult* r : {&f32, &f64}) {
    for (const LayerStats& l : r->pass.layers) {
      REQUIRE(std::isfinite(l.grad_weight_log10));
      REQUIRE(std::isfinite(l.grad_preact_log10));
    }
    CHECK(r->summary.grad_first_last_log10 < -250);  // far below any float's range
    const double deep = rate(*r, 10, 110), shallow = rate(*r, 390, 490);
    CHECK(deep > 0.4);  // the gradient grows toward the output by >10^0.4 per layer
    CHECK(std::abs(deep - shallow) < 0.05);
  }
  for (std::size_t i = 0; i < f32.pass.layers.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(f32.pass.layers[i].grad_weight_log10 - f64.pass.layers[i].grad_weight_log10) < 0.01);
    CHECK(std::abs(f32.pass.layers[i].grad_preact_log10 - f64.pass.layers[i].grad_preact_log10) < 0.01);
  }
}
