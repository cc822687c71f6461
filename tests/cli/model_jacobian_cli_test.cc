// analyze --model --jacobian through the real binary, against PyTorch: reference.json holds, for
// each fixture whose Jacobian is defined, the singular values of d a_L / d x for the batch's first
// four samples (torch.autograd.functional.jacobian and torch.linalg.svdvals, float64;
// tests/fixtures/make_onnx_fixtures.py). The figures are computed here from those singular values
// by their definitions (core/jacobian_stats.cc's list), independently of gradflow's own code.
#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

struct Figures {
  double s2_mean = 0, s2_var_rel = 0, s_max_log10 = 0, s_min_log10 = 0, cond_log10 = 0, rank_fraction = 0,
         isometry = 0;
};

// Singular values below 1e-12 of their sample's largest count as 0: the fixtures' are either above
// 1e-3 of it or, where relu units are off or a norm removes a direction, round-off of 0 (below
// 1e-15), on either side of gradflow's tolerance s_max x max(n_L, n_0) x 2.2e-16 x L.
Figures figures(const nlohmann::json& singular_values) {
  std::vector<double> s2;
  Figures f;
  f.s_max_log10 = f.cond_log10 = -INFINITY;
  f.s_min_log10 = INFINITY;
  double isometry = 0, resolved = 0;
  for (const auto& sample : singular_values) {
    const double hi = sample[0].get<double>();  // descending
    double log_prod = 0, sum = 0, lo = hi;
    bool full_rank = true;
    for (const auto& v : sample) {
      const double s = v.get<double>();
      s2.push_back(s * s);
      sum += s * s;
      if (s > 1e-12 * hi) {
        lo = s;
        log_prod += std::log(s * s);
        ++resolved;
      } else {
        full_rank = false;
      }
    }
    const double n = static_cast<double>(sample.size());
    isometry += full_rank ? std::exp(log_prod / n) / (sum / n) : 0;  // det(J J^T) = 0: not an isometry at all
    f.s_max_log10 = std::max(f.s_max_log10, std::log10(hi));
    f.s_min_log10 = std::min(f.s_min_log10, std::log10(lo));
    f.cond_log10 = std::max(f.cond_log10, std::log10(hi / lo));
  }
  f.isometry = isometry / static_cast<double>(singular_values.size());
  f.rank_fraction = resolved / static_cast<double>(s2.size());
  double mean = 0, var = 0;
  for (double x : s2) mean += x / static_cast<double>(s2.size());
  for (double x : s2) var += (x - mean) * (x - mean) / static_cast<double>(s2.size());
  f.s2_mean = mean;
  f.s2_var_rel = var / (mean * mean);
  return f;
}

}  // namespace

TEST_CASE("--model --jacobian: every figure agrees with PyTorch's singular values of d a_L / d x (f64, 1e-9)") {
  const auto ref = nlohmann::json::parse(read_file(kFixtures + "reference.json"));
  int models = 0;
  for (const auto& [model, entry] : ref.items()) {
    if (!entry.is_object() || !entry.contains("jacobian_singular_values")) continue;
    CAPTURE(model);
    ++models;
    const ProcessResult r =
        run_gradflow({"analyze", "--model", kFixtures + model, "--data", kFixtures + "batch.csv", "--label-col", "y",
                      "-b", "32", "--dtype", "f64", "--jacobian", "--format", "json"});
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(r.out);  // named: a reference into a temporary would dangle
    const auto& j = doc["runs"][0]["jacobian"];
    const auto& sv = entry["jacobian_singular_values"];
    REQUIRE(doc["config"]["jacobian-samples"] == sv.size());
    const Figures want = figures(sv);
    auto close = [](double got, double expected, double tol) { return std::abs(got - expected) <= tol * std::max(1.0, std::abs(expected)); };
    CHECK(close(j["jac_s2_mean"].get<double>(), want.s2_mean, 1e-9));
    CHECK(close(j["jac_s2_mean_log10"].get<double>(), std::log10(want.s2_mean), 1e-9));
    CHECK(close(j["jac_s2_var_rel"].get<double>(), want.s2_var_rel, 1e-9));
    CHECK(close(j["jac_s_max_log10"].get<double>(), want.s_max_log10, 1e-9));
    CHECK(close(j["jac_s_min_log10"].get<double>(), want.s_min_log10, 1e-9));
    CHECK(close(j["jac_cond_log10"].get<double>(), want.cond_log10, 1e-9));
    CHECK(close(j["jac_isometry"].get<double>(), want.isometry, 1e-9));
    CHECK(j["jac_rank_fraction"].get<double>() == doctest::Approx(want.rank_fraction).epsilon(1e-15));
  }
  CHECK(models == 9);  // every fixture but conv.onnx and BatchNorm over the batch
}
