// The metric list (metrics.h) is the one place a per-layer metric is declared: every output
// reads it, so its entries must be consistent, and what it declares must be what the outputs show.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "batch/baseline.h"
#include "core/metrics.h"
#include "core/summary.h"
#include "process.h"

using namespace gf;

TEST_CASE("metrics: keys, train order and table columns are consistent") {
  std::set<std::string_view> keys, headers;
  for (const LayerMetric& m : declared_layer_metrics()) {
    CHECK_MESSAGE(keys.insert(m.key).second, m.key);
    CHECK_MESSAGE(!m.description.empty(), m.key);
    CHECK_MESSAGE(!m.unit.empty(), m.key);
    if (m.counts != Counts::none) CHECK_MESSAGE(m.unit == "1", m.key);  // a count fraction is a share
    if (m.in_analyze()) {
      CHECK_MESSAGE(!m.column.header.empty(), m.key);  // the detailed table shows every analyze metric
      CHECK_MESSAGE(headers.insert(m.column.header).second, m.column.header);
    }
    CHECK_MESSAGE((m.train_order >= 0) == m.in_train(), m.key);
  }
  for (std::size_t k = 0; k < train_layer_metrics().size(); ++k)
    CHECK(train_layer_metrics()[k].train_order == static_cast<int>(k));
  for (const LayerMetric& m : layer_metrics()) CHECK(find_layer_metric(m.key) == &m);
  CHECK(find_layer_metric("update_ratio_log10") == nullptr);  // train only
  for (const SummaryMetric& s : summary_metrics())
    if (!s.of.empty()) CHECK_MESSAGE(find_layer_metric(s.of) != nullptr, s.key);
}

TEST_CASE("metrics: one count of a count fraction, from what it counts") {
  AnalysisConfig c;
  c.depth = 2;
  c.width = {16, 12};
  c.input_dim = 8;
  c.batch = 4;
  // Per layer: a (sample, unit) pair, a unit, a sign of dW (|pos - neg| moves by 2).
  CHECK(count_quantum("saturated_frac", 1, c) == 1.0 / (4 * 16));
  CHECK(count_quantum("inactive_frac", 2, c) == 1.0 / (4 * 12));
  CHECK(count_quantum("saturated_units_frac", 2, c) == 1.0 / 12);
  CHECK(count_quantum("dead_units_frac", 1, c) == 1.0 / 16);
  CHECK(count_quantum("dw_sign_coherence", 1, c) == 2.0 / (8 * 16));
  CHECK(count_quantum("dw_sign_coherence", 2, c) == 2.0 / (16 * 12));
  CHECK(count_quantum("grad_weight_log10", 1, c) == 0);
  // Summaries: one count in the narrowest layer (12 units; fan 16 x 12 from layer 2 on).
  CHECK(count_quantum("saturated_frac_mean", 0, c) == 1.0 / (2 * 4 * 12));
  CHECK(count_quantum("inactive_frac_mean", 0, c) == 1.0 / (2 * 4 * 12));
  CHECK(count_quantum("saturated_frac_max", 0, c) == 1.0 / (4 * 12));
  CHECK(count_quantum("dead_units_frac", 0, c) == 1.0 / 28);
  CHECK(count_quantum("dead_units_frac_max", 0, c) == 1.0 / 12);
  CHECK(count_quantum("dw_sign_coherence_mean", 0, c) == 2.0 / (1 * 16 * 12));
  CHECK(count_quantum("grad_first_last_log10", 0, c) == 0);
  c.depth = 1;
  c.width = {16};
  CHECK(count_quantum("dw_sign_coherence_mean", 0, c) == 0);  // undefined with one layer
}

TEST_CASE("metrics: the detailed table shows the declared columns, in order") {
  const test::ProcessResult r = test::run_gradflow({"analyze", "-a", "tanh", "-d", "3", "-w", "8", "-b", "8"});
  REQUIRE(r.exit_code == 0);
  const std::size_t head = r.out.find("layer  width");
  REQUIRE(head != std::string::npos);
  const std::string line = r.out.substr(head, r.out.find('\n', head) - head);
  std::size_t at = 0;
  for (const LayerMetric& m : layer_metrics()) {
    if (m.column.when_nonzero) {  // tanh's slopes stay in f32's range: no uflow% column
      CHECK(line.find(std::string(m.column.header)) == std::string::npos);
      continue;
    }
    const std::size_t pos = line.find(" " + std::string(m.column.header), at);
    CHECK_MESSAGE(pos != std::string::npos, m.column.header);
    at = pos;
  }
  // The train log records carry train's metrics, in their order, and nothing else.
  const test::ProcessResult t =
      test::run_gradflow({"train", "-a", "relu", "-d", "2", "-w", "8", "--steps", "2", "--log-every", "1",
                          "--format", "json"});
  REQUIRE(t.exit_code == 0);
  const auto doc = nlohmann::ordered_json::parse(t.out);  // keys in their order
  const auto& layer = doc["runs"][0]["log"][1]["layers"][0];
  std::vector<std::string> got, want{"layer"};
  for (const auto& [k, v] : layer.items()) got.push_back(k);
  for (const LayerMetric& m : train_layer_metrics()) want.emplace_back(m.key);
  CHECK(got == want);
}
