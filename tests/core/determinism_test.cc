#include <doctest/doctest.h>

#include "core/analysis.h"
#include "report/report_json.h"

using namespace gf;

namespace {
AnalysisConfig config() {
  AnalysisConfig c;
  c.activations = {"sigmoid", "relu", "gelu"};
  c.depth = 8;
  // full, partial and single-unit blocks; products over groups of 3 and of 2 blocks (base/blocks.h)
  c.width = {200, 600, 130, 321, 64, 65, 1, 150};
  c.input_dim = 70;
  c.batch = 24;
  c.sigma_b2 = 0.05;
  return c;
}
std::string json_with(AnalysisConfig c, int threads, WeightsMode weights) {
  c.threads = threads;
  c.weights = weights;
  return analysis_json(run_analysis(c));
}
}  // namespace

TEST_CASE("identical JSON bytes for any thread count, on every run") {
  const std::string one = json_with(config(), 1, WeightsMode::store);
  CHECK(one == json_with(config(), 2, WeightsMode::store));
  CHECK(one == json_with(config(), 3, WeightsMode::store));
  CHECK(one == json_with(config(), 1, WeightsMode::store));
}

TEST_CASE("regenerating weights gives the same bytes as storing them") {
  CHECK(json_with(config(), 2, WeightsMode::store) == json_with(config(), 2, WeightsMode::regenerate));
  AnalysisConfig c = config();
  c.dtype = Dtype::f64;
  c.init = "orthogonal";
  c.activations = {"tanh"};
  CHECK(json_with(c, 2, WeightsMode::store) == json_with(c, 1, WeightsMode::regenerate));
}

TEST_CASE("every activation sees the same inputs and weight draws") {
  AnalysisConfig c = config();
  c.activations = {"identity", "identity"};
  const AnalysisResult r = run_analysis(c);
  CHECK(nlohmann::ordered_json(run_json(r.runs[0])) == run_json(r.runs[1]));
}
