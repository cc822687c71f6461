// analyze --seed A:B: the mean and standard error of every metric, checked against a direct
// recomputation from the per-seed runs, which are themselves `analyze --seed s` exactly.
#include "batch/seed_stats.h"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf;
using json = nlohmann::ordered_json;

namespace {

const std::vector<std::string> kNet = {"analyze", "-a", "tanh,relu", "-d", "5", "-w", "24", "-b", "16", "--format", "json"};

json run(std::vector<std::string> extra) {
  std::vector<std::string> a = kNet;
  a.insert(a.end(), extra.begin(), extra.end());
  const test::ProcessResult r = test::run_gradflow(a);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// The textbook formulas, written out again: mean, and sd (n - 1) / sqrt(n), over finite values.
void check_mean_se(const json& stat, const std::vector<json>& values) {
  double sum = 0;
  int n = 0;
  for (const json& v : values)
    if (v.is_number()) sum += v.get<double>(), ++n;
  CHECK(stat["n"] == n);
  if (n == 0) {
    CHECK(stat["mean"].is_null());
    return;
  }
  const double mean = sum / n;
  CHECK(stat["mean"].get<double>() == doctest::Approx(mean).epsilon(1e-12).scale(1e-300));
  if (n < 2) {
    CHECK(stat["se"].is_null());
    return;
  }
  double ss = 0;
  for (const json& v : values)
    if (v.is_number()) ss += (v.get<double>() - mean) * (v.get<double>() - mean);
  CHECK(stat["se"].get<double>() == doctest::Approx(std::sqrt(ss / (n - 1) / n)).epsilon(1e-9).scale(1e-300));
}

}  // namespace

TEST_CASE("describe_finite: finite values only, SE = sd / sqrt(n)") {
  const Describe m = describe_finite(std::vector<double>{1, 2, 3, 4, kNaN});
  CHECK(m.n == 4);
  CHECK(m.nonfinite == 1);
  CHECK(m.mean == 2.5);
  CHECK(m.se == doctest::Approx(std::sqrt(5.0 / 3.0 / 4.0)));
  CHECK(std::isnan(describe_finite(std::vector<double>{7}).se));
  CHECK(describe_finite(std::vector<double>{}).n == 0);
}

TEST_CASE("analyze --seed 0:11: per activation and layer, mean and SE of every metric over the seeds") {
  const json doc = run({"--seed", "0:11", "--per-seed"});
  CHECK(doc["config"]["seed"] == "0:11");
  REQUIRE(doc["seeds"].size() == 12);
  REQUIRE(doc["runs"].size() == 24);  // seed-major, both activations
  for (std::size_t a = 0; a < 2; ++a) {
    const json& st = doc["statistics"][a];
    std::vector<json> runs;
    for (const json& r : doc["runs"])
      if (r["activation"] == st["activation"]) runs.push_back(r);
    REQUIRE(runs.size() == 12);
    CHECK(st["runs"] == 12);
    for (const auto& [metric, stat] : st["summary"].items()) {
      std::vector<json> v;
      for (const json& r : runs) v.push_back(r["summary"][metric]);
      CAPTURE(metric);
      check_mean_se(stat, v);
    }
    for (std::size_t l = 0; l < 5; ++l)
      for (const auto& [metric, stat] : st["layers"][l].items()) {
        if (!stat.is_object()) continue;  // layer, fan_in, width
        std::vector<json> v;
        for (const json& r : runs) v.push_back(r["layers"][l][metric]);
        CAPTURE(metric);
        check_mean_se(stat, v);
      }
    int healthy = 0;
    for (const json& r : runs)
      for (const json& v : r["summary"]["verdict"]) healthy += v == "healthy";
    CHECK(st["verdicts"].value("healthy", 0) == healthy);
  }
  // Every seed's run is the run `analyze --seed s` gives, to the byte.
  for (const int s : {0, 7, 11}) {
    const json single = run({"--seed", std::to_string(s)});
    for (std::size_t a = 0; a < 2; ++a) {
      json r = doc["runs"][static_cast<std::size_t>(s) * 2 + a];
      CHECK(r["seed"] == s);
      r.erase("seed");
      CHECK(r == single["runs"][a]);
    }
  }
}

TEST_CASE("analyze --seed: the same bytes for any -j, as a table, JSON and CSV") {
  for (const char* format : {"json", "csv", "table"}) {
    std::vector<std::string> base = kNet;
    base.back() = format;
    base.insert(base.end(), {"--seed", "3,5:9"});
    std::string first;
    for (const char* j : {"1", "2", "5"}) {
      std::vector<std::string> a = base;
      a.insert(a.end(), {"-j", j});
      const test::ProcessResult r = test::run_gradflow(a);
      REQUIRE(r.exit_code == 0);
      if (first.empty()) first = r.out;
      CHECK(r.out == first);
    }
    if (std::string(format) == "csv") CHECK(first.find(",grad_weight_log10_mean,grad_weight_log10_se,grad_weight_log10_n,") != std::string::npos);
    if (std::string(format) == "table") CHECK(first.find("seeds 3,5,6,7,8,9 (6 runs per activation)") != std::string::npos);
  }
}

TEST_CASE("analyze --seed: what needs one network says so") {
  std::vector<std::string> a = kNet;
  a.insert(a.end(), {"--seed", "0:3", "--theory"});
  const test::ProcessResult theory = test::run_gradflow(a);
  CHECK(theory.exit_code == 2);
  CHECK(theory.err.find("--theory shows one network: give one --seed") != std::string::npos);
  a = kNet;
  a.insert(a.end(), {"--per-seed"});
  CHECK(test::run_gradflow(a).exit_code == 2);
  a = kNet;
  a.insert(a.end(), {"--seed", "2,2"});
  CHECK(test::run_gradflow(a).err.find("a seed appears twice") != std::string::npos);
}
