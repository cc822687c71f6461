// Every preset in configs/ loads, runs and tells the story its description promises (at a
// smaller width and batch than the preset's, given as flags, which override the file).
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;
using nlohmann::json;

namespace {

json run_preset(const std::string& name, const std::vector<std::string>& extra = {"-w", "64", "-b", "64"}) {
  const ProcessResult r = run_gradflow(
      concat({"analyze", "--config", std::string(GRADFLOW_SOURCE_DIR) + "/configs/" + name, "--format", "json"}, extra));
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

bool has_verdict(const json& run, const std::string& v) {
  for (const auto& x : run["summary"]["verdict"])
    if (x == v) return true;
  return false;
}

}  // namespace

TEST_CASE("every preset has a description and runs") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(GRADFLOW_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".json") continue;
    CAPTURE(e.path());
    const json cfg = json::parse(read_file(e.path()));
    if (cfg.contains("rules") || !cfg.contains("activation")) continue;  // not an analyze preset
    CHECK(cfg["description"].get<std::string>().size() > 40);
    ++n;
  }
  CHECK(n >= 6);
}

TEST_CASE("the presets tell their stories") {
  const json deep = run_preset("deep-sigmoid.json")["runs"][0];
  CHECK(has_verdict(deep, "vanishing"));
  CHECK(deep["summary"]["grad_first_last_log10"] < -20);

  const json tanh = run_preset("tanh-saturation.json")["runs"][0];
  CHECK(has_verdict(tanh, "saturated"));

  const json dead = run_preset("relu-dead.json")["runs"][0];
  CHECK(has_verdict(dead, "dead_units"));
  CHECK(dead["summary"]["dead_units_frac"] > 0.3);

  const json zc = run_preset("zero-centring.json", {"-w", "64"})["runs"];
  CHECK(zc[0]["summary"]["dw_sign_coherence_mean"] == 1.0);
  CHECK(zc[1]["summary"]["dw_sign_coherence_mean"] < 0.3);

  const json xavier = run_preset("relu-xavier.json")["runs"][0]["layers"];
  const json he = run_preset("relu-xavier.json", {"-w", "64", "-b", "64", "--init", "he_normal"})["runs"][0]["layers"];
  const double xavier_drop = xavier[29]["grad_preact_log10"].get<double>() - xavier[0]["grad_preact_log10"].get<double>();
  const double he_drop = he[29]["grad_preact_log10"].get<double>() - he[0]["grad_preact_log10"].get<double>();
  CHECK(xavier_drop > 3);  // 29 layers x log10(sqrt 2) = 4.4 decades
  CHECK(std::abs(he_drop) < 1);

  // 30 layers instead of 50 (speed): 29 x log10 sqrt(1.467) = 2.4 decades by Yang et al. 2019.
  const json bn = run_preset("batchnorm-explosion.json", {"-d", "30", "-w", "256"})["runs"][0];
  CHECK(has_verdict(bn, "exploding"));
  CHECK(bn["summary"]["grad_first_last_log10"] > 2);
  const json bn_off = run_preset("batchnorm-explosion.json", {"-d", "30", "-w", "256", "--norm", "none"})["runs"][0];
  CHECK(std::abs(bn_off["summary"]["grad_first_last_log10"].get<double>()) < 1);

  const auto last_over_first = [](const json& run) {
    return run["layers"].back()["grad_weight_log10"].get<double>() - run["layers"][0]["grad_weight_log10"].get<double>();
  };
  const json post_ln = run_preset("pre-vs-post-ln.json")["runs"][0];
  const json pre_ln = run_preset("pre-vs-post-ln.json", {"--norm-position", "pre"})["runs"][0];
  CHECK(last_over_first(post_ln) > 1.2);
  CHECK(std::abs(last_over_first(pre_ln)) < 0.8);

  const json story = run_preset("default.json")["runs"];
  CHECK(has_verdict(story[0], "vanishing"));
  CHECK(has_verdict(story[1], "healthy"));
}
