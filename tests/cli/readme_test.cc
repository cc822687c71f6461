// The README documents every metric, verdict and preset the code has.
#include <doctest/doctest.h>

#include <filesystem>
#include <fmt/format.h>

#include "batch/rules.h"
#include "core/jacobian_stats.h"
#include "core/metrics.h"
#include "core/stats.h"
#include "core/summary.h"
#include "process.h"

using namespace gf;

TEST_CASE("README explains every metric, verdict and preset") {
  const std::string readme = test::read_file(std::string(GRADFLOW_SOURCE_DIR) + "/README.md");
  for (const LayerMetric& m : layer_metrics()) CHECK(readme.find("`" + std::string(m.key) + "`") != std::string::npos);
  for (const JacobianMetric& m : jacobian_metrics()) CHECK(readme.find("`" + std::string(m.key) + "`") != std::string::npos);
  for (const BlockMetric& m : block_metrics()) CHECK(readme.find("`" + std::string(m.key) + "`") != std::string::npos);
  for (const BlockRunMetric& m : block_run_metrics()) CHECK(readme.find("`" + std::string(m.key)) != std::string::npos);
  for (const SummaryMetric& m : summary_metrics()) CHECK(readme.find(std::string(m.key)) != std::string::npos);
  for (const char* v : {"vanishing", "exploding", "saturated", "dead_units", "not_zero_centred", "inexact", "healthy",
                        "signal_vanishing", "signal_exploding", "grad_small", "grad_large"})
    CHECK(readme.find(std::string("`") + v + "`") != std::string::npos);
  for (const LayerMetric& m : train_layer_metrics())
    CHECK(readme.find("`" + std::string(m.key) + "`") != std::string::npos);
  // The verdict table names each threshold's flag and default in its verdict's row.
  for (const ThresholdFlag& f : threshold_flags()) {
    const std::size_t row = readme.find("| `" + std::string(f.verdict) + "` |");
    REQUIRE(row != std::string::npos);
    const std::string line = readme.substr(row, readme.find('\n', row) - row);
    CHECK_MESSAGE(line.find(fmt::format("`--{}` ({:g})", f.name, Thresholds{}.*f.field)) != std::string::npos, line);
  }
  for (const char* k : {"`notes`", "`inexact_layer`", "`uflow%`"}) CHECK(readme.find(k) != std::string::npos);
  for (const DefaultRule& r : default_rules()) CHECK(readme.find(std::string("`") + r.text + "`") != std::string::npos);
  for (const auto& e : std::filesystem::directory_iterator(std::string(GRADFLOW_SOURCE_DIR) + "/configs"))
    if (e.path().extension() == ".json") CHECK(readme.find(e.path().filename().string()) != std::string::npos);
}
