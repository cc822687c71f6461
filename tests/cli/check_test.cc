// gradflow check: baselines recorded by analyze, perturbed on purpose; rules checked against
// the numbers analyze reports; JUnit XML read back by a real XML parser (xmllint).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>

#include "batch/baseline.h"
#include "core/jacobian_stats.h"
#include "core/metrics.h"
#include "core/summary.h"
#include "process.h"

using namespace gf::test;
using json = nlohmann::ordered_json;

namespace {

const std::vector<std::string> kNet = {"-a", "tanh,relu", "-d", "4", "-w", "16", "-b", "8", "--seed", "3"};
// What a baseline of kNet holds, from the metric lists (so a new metric changes no count here):
// per run, 3 exact fields, the summary metrics and the per-layer metrics, these of 4 layers.
const std::size_t kMetrics = 2 * gf::baseline_metrics_per_run();
const std::size_t kValues = 2 * (3 + gf::summary_metrics().size() + 4 * gf::layer_metrics().size());

std::string record_baseline(const std::string& dir) {
  std::vector<std::string> a = {"analyze", "--format", "json", "-o", dir + "/base.json"};
  a.insert(a.end(), kNet.begin(), kNet.end());
  REQUIRE(run_gradflow(a).exit_code == 0);
  return dir + "/base.json";
}

std::string xpath(const std::string& file, const std::string& expr) {
  const ProcessResult r = run_process({"/usr/bin/xmllint", "--xpath", expr, file});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);  // xmllint parses the whole file first: malformed XML fails here
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("check --baseline: the recorded analysis reproduces exactly (exit 0)") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  const ProcessResult r = run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(fmt::format("PASS  baseline: all {} values of {} metrics match", kValues, kMetrics)) !=
        std::string::npos);
  CHECK(r.out.find(fmt::format("gradflow check: passed: {} checks", kMetrics)) != std::string::npos);
}

TEST_CASE("check --baseline: a perturbed value fails (exit 1), naming run, layer and metric") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  json doc = json::parse(read_file(base));
  const double original = doc["runs"][1]["layers"][2]["grad_weight_log10"].get<double>();
  doc["runs"][1]["layers"][2]["grad_weight_log10"] = original + 0.5;  // relu, layer 3
  const double tiny = doc["runs"][0]["summary"]["loss"].get<double>();
  doc["runs"][0]["summary"]["loss"] = tiny * (1 + 1e-9);  // inside the default tolerance
  write_file(base, doc.dump(2));

  const ProcessResult r = run_gradflow({"check", "--baseline", base});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(fmt::format("FAIL  baseline: 1 of {} values, in 1 of {} metrics, outside tolerance", kValues, kMetrics)) != std::string::npos);
  CHECK(r.out.find("relu      3  grad_weight_log10") != std::string::npos);
  CHECK(r.out.find(fmt::format("gradflow check: FAILED: 1 of {} checks", kMetrics)) != std::string::npos);

  const ProcessResult j = run_gradflow({"check", "--baseline", base, "--format", "json"});
  CHECK(j.exit_code == 1);
  const json rep = json::parse(j.out);
  CHECK(rep["passed"] == false);
  int failing = 0;
  for (const json& g : rep["baseline"]["groups"]) {
    if (g["passed"] == true) continue;
    ++failing;
    CHECK(g["run"] == "relu");
    CHECK(g["metric"] == "grad_weight_log10");
    REQUIRE(g["mismatches"].size() == 1);
    const json& m = g["mismatches"][0];
    CHECK(m["layer"] == 3);
    CHECK(m["got"].get<double>() == original);
    CHECK(m["difference"].get<double>() == doctest::Approx(-0.5).epsilon(1e-12));
  }
  CHECK(failing == 1);

  // The 1e-9 change to the loss is found once the tolerance is zero; an override lets 0.5 pass.
  CHECK(run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0", "--metric-atol",
                      "grad_weight_log10=1"}).out.find(fmt::format("FAIL  baseline: 1 of {}", kValues)) != std::string::npos);
  CHECK(run_gradflow({"check", "--baseline", base, "--metric-atol", "grad_weight_log10=0.6"}).exit_code == 0);

  // --update rewrites the baseline with what this build computes: analyze's own output.
  const ProcessResult u = run_gradflow({"check", "--baseline", base, "--update"});
  CHECK(u.exit_code == 0);
  // It says where and how much it wrote, not "passed: 0 checks": 2 runs of 3 exact fields, 13
  // summary and 14 per-layer metrics.
  CHECK(u.out.find(fmt::format("gradflow check: baseline rewritten: {}, 2 runs, {} metrics ({} per run)\n", base,
                               kMetrics, kMetrics / 2)) != std::string::npos);
  CHECK(u.out.find("passed") == std::string::npos);
  std::vector<std::string> a = {"analyze", "--format", "json"};
  a.insert(a.end(), kNet.begin(), kNet.end());
  CHECK(read_file(base) == run_gradflow(a).out);
  CHECK(run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"}).exit_code == 0);
}

TEST_CASE("check --baseline: a metric newer than the baseline is reported, not failed") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  json doc = json::parse(read_file(base));
  for (json& run : doc["runs"]) {
    run["summary"].erase("act_offset_mean");
    for (json& l : run["layers"]) l.erase("dw_sign_coherence");
  }
  write_file(base, doc.dump());
  const ProcessResult r = run_gradflow({"check", "--baseline", base});
  CHECK(r.exit_code == 0);
  // 2 runs less 1 summary value and 4 layers' values each
  CHECK(r.out.find(fmt::format("PASS  baseline: all {} values of {} metrics match", kValues - 10, kMetrics - 4)) !=
        std::string::npos);
  CHECK(r.out.find("not compared (new since it was recorded; --update adds them): act_offset_mean, dw_sign_coherence") !=
        std::string::npos);
}

TEST_CASE("the committed CI baseline (tests/baselines/mlp.json) passes with the default tolerances") {
  const std::string base = std::string(GRADFLOW_SOURCE_DIR) + "/tests/baselines/mlp.json";
  const ProcessResult r = run_gradflow({"check", "--baseline", base});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  // It is what configs/ci/mlp.json gives: the gate tracks that config.
  const json doc = json::parse(read_file(base));
  const ProcessResult now = run_gradflow({"analyze", "--config", std::string(GRADFLOW_SOURCE_DIR) + "/configs/ci/mlp.json", "--format", "json"});
  CHECK(json::parse(now.out)["config"] == doc["config"]);
}

TEST_CASE("check --baseline: fractions of counts may move by --count-slack counts, no more") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  // batch 8, width 16, depth 4: one unit-sample of a layer is 1/128 of its saturated_frac, one
  // unit of the network 1/64 of the summary's dead_units_frac.
  auto shifted = [&](double pairs, double units) {
    json doc = json::parse(read_file(base));
    json& sat = doc["runs"][0]["layers"][1]["saturated_frac"];
    sat = sat.get<double>() + pairs / 128;
    json& dead = doc["runs"][1]["summary"]["dead_units_frac"];
    dead = dead.get<double>() + units / 64;
    write_file(dir + "/shifted.json", doc.dump());
    return run_gradflow({"check", "--baseline", dir + "/shifted.json", "--atol", "0", "--rtol", "0"});
  };
  CHECK(shifted(2, 0).exit_code == 0);
  CHECK(shifted(0, 2).exit_code == 0);
  const ProcessResult three = shifted(3, 3);
  CHECK(three.exit_code == 1);
  CHECK(three.out.find(fmt::format("FAIL  baseline: 2 of {} values", kValues)) != std::string::npos);
  CHECK(three.out.find("tanh      2  saturated_frac") != std::string::npos);
  CHECK(three.out.find("relu      -  dead_units_frac") != std::string::npos);
  // allowed = 2 counts: 2/128 for the layer's value
  CHECK(three.out.find("0.016") != std::string::npos);
  const ProcessResult strict = run_gradflow({"check", "--baseline", dir + "/shifted.json", "--atol", "0", "--rtol",
                                             "0", "--count-slack", "0"});
  CHECK(strict.out.find(fmt::format("FAIL  baseline: 2 of {} values", kValues)) != std::string::npos);
}

TEST_CASE("check --baseline: baselines this build cannot honour are input errors (exit 2)") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  const json doc = json::parse(read_file(base));
  struct Case {
    std::function<void(json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](json& d) { d["schema_version"] = 2; }, "written with schema version 2"},
      {[](json& d) { d["config"]["activation"] = {"tanh", "swish9"}; }, "cannot reproduce its config: --activation: unknown value 'swish9'"},
      {[](json& d) { d["config"]["wings"] = 2; }, "cannot reproduce its config: unknown key 'wings'"},
      {[](json& d) { d["config"]["depth"] = 5; }, "cannot reproduce its config: --width has 4 values but --depth is 5"},
      {[](json& d) { d["command"] = "check"; }, "not the JSON of `gradflow analyze`"},
      {[](json& d) { d["runs"].erase(1); }, "its runs (tanh) do not match the activations of its config (tanh, relu)"},
  };
  for (const Case& c : cases) {
    json d = doc;
    c.edit(d);
    write_file(dir + "/bad.json", d.dump());
    const ProcessResult r = run_gradflow({"check", "--baseline", dir + "/bad.json"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  write_file(dir + "/bad.json", "{ not json");
  CHECK(run_gradflow({"check", "--baseline", dir + "/bad.json"}).exit_code == 2);
  const ProcessResult grid = run_gradflow({"check", "--baseline", base, "-d", "5,6"});
  CHECK(grid.exit_code == 2);
  CHECK(grid.err.find("--depth: with --baseline give one value, not 2 ('5,6')") != std::string::npos);
  CHECK(run_gradflow({"check"}).err.find("nothing to check") != std::string::npos);
}

TEST_CASE("check --baseline: a document of analyze --theory is a baseline; one of --seed A:B is refused, saying why") {
  const std::string dir = temp_dir();
  const std::vector<std::string> net = {"-a", "tanh,relu", "-d", "4", "-w", "16", "-b", "8", "--format", "json"};
  std::vector<std::string> theory = {"analyze", "--theory", "-o", dir + "/theory.json"};
  theory.insert(theory.end(), net.begin(), net.end());
  REQUIRE(run_gradflow(theory).exit_code == 0);
  const ProcessResult same = run_gradflow({"check", "--baseline", dir + "/theory.json", "--atol", "0", "--rtol", "0"});
  INFO(same.err);
  CHECK(same.exit_code == 0);
  // The network it reruns is the recorded one: another init changes the numbers and fails.
  CHECK(run_gradflow({"check", "--baseline", dir + "/theory.json", "--init", "he_normal"}).exit_code == 1);

  std::vector<std::string> seeds = {"analyze", "--seed", "0:2", "-o", dir + "/seeds.json"};
  seeds.insert(seeds.end(), net.begin(), net.end());
  REQUIRE(run_gradflow(seeds).exit_code == 0);
  const ProcessResult r = run_gradflow({"check", "--baseline", dir + "/seeds.json"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("recorded with --seed 0:2, it holds statistics over seeds; a baseline is one seed's runs") !=
        std::string::npos);
}

TEST_CASE("check rules: exactly the values analyze reports outside the bounds are violations") {
  std::vector<std::string> a = {"analyze", "--format", "json", "-d", "6"};
  a.insert(a.end(), kNet.begin(), kNet.end());
  a.erase(a.begin() + 7, a.begin() + 9);  // kNet's -d 4: depth 6 it is
  const json doc = json::parse(run_gradflow(a).out);
  REQUIRE(doc["config"]["depth"] == 6);
  std::vector<std::string> expected;
  for (const json& run : doc["runs"])
    for (const json& l : run["layers"])
      if (l["dead_units_frac"].get<double>() > 0.05)
        expected.push_back(fmt::format("{}/{}", run["activation"].get<std::string>(), l["layer"].get<int>()));
  REQUIRE_FALSE(expected.empty());  // relu at this size has dead units: the rule must bite

  const std::string factor_bound = fmt::format("{}", doc["runs"][0]["summary"]["grad_factor_per_layer"].get<double>());
  std::vector<std::string> c = {"check", "-a", "tanh,relu", "-d", "6", "-w", "16", "-b", "8", "--seed", "3",
                                "--max-dead-frac", "0.05", "--rule", "grad_factor_per_layer < " + factor_bound,
                                "--format", "json"};
  const ProcessResult r = run_gradflow(c);
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  const json rep = json::parse(r.out);
  REQUIRE(rep["rules"].size() == 2);
  std::vector<std::string> got;
  for (const json& v : rep["rules"][0]["violations"]) {
    CHECK(v["metric"] == "dead_units_frac");
    CHECK(v["op"] == "<=");
    CHECK(v["bound"] == 0.05);
    CHECK(v["config"] == "command line");
    got.push_back(fmt::format("{}/{}", v["activation"].get<std::string>(), v["layer"].get<int>()));
  }
  CHECK(got == expected);
  CHECK(rep["rules"][0]["checked"] == 12);
  // The bound is tanh's own factor: tanh violates "<" it, and every run whose factor is larger.
  std::vector<std::string> expected_factor, got_factor;
  for (const json& run : doc["runs"])
    if (!(run["summary"]["grad_factor_per_layer"].get<double>() < std::stod(factor_bound)))
      expected_factor.push_back(run["activation"].get<std::string>());
  for (const json& v : rep["rules"][1]["violations"]) {
    CHECK(v["layer"].is_null());
    got_factor.push_back(v["activation"].get<std::string>());
  }
  CHECK(got_factor == expected_factor);
  CHECK(got_factor.front() == "tanh");

  // A grid: the config column names the varying axes.
  const ProcessResult g = run_gradflow({"check", "-a", "relu", "-d", "4,6", "-w", "16", "-b", "8", "--seed", "3",
                                        "--max-dead-frac", "0.05"});
  CHECK(g.exit_code == 1);
  CHECK(g.out.find("depth=6  relu") != std::string::npos);
  // Rules that hold pass with exit 0.
  CHECK(run_gradflow({"check", "-a", "tanh", "-d", "4", "-w", "16", "-b", "8", "--max-dead-frac", "0"}).exit_code == 0);
}

TEST_CASE("check --junit: XML that parses, one testcase per rule and per metric, failures counted") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  json doc = json::parse(read_file(base));
  for (json& l : doc["runs"][0]["layers"]) l["act_std"] = l["act_std"].get<double>() * 1.01;
  doc["runs"][1]["summary"]["loss"] = 99.0;
  write_file(base, doc.dump());
  const std::string xml = dir + "/report.xml";
  const ProcessResult r = run_gradflow({"check", "--baseline", base, "--max-dead-frac", "0.05",
                                        "--rule", "loss < 100", "--junit", xml, "--format", "json"});
  CHECK(r.exit_code == 1);
  const json rep = json::parse(r.out);
  const int checks = rep["checks"].get<int>(), failed = rep["failed"].get<int>();
  CHECK(checks == static_cast<int>(kMetrics) + 2);
  // act_std of tanh, loss of relu, and the dead units of relu at this size
  CHECK(failed == 3);
  CHECK(xpath(xml, "count(//testcase)") == std::to_string(checks));
  CHECK(xpath(xml, "count(//testcase[failure])") == std::to_string(failed));
  CHECK(xpath(xml, "string(/testsuites/@tests)") == std::to_string(checks));
  CHECK(xpath(xml, "string(/testsuites/@failures)") == std::to_string(failed));
  CHECK(xpath(xml, "count(//testsuite[@name='rules']/testcase)") == "2");
  CHECK(xpath(xml, "string(//testcase[@classname='gradflow.baseline.tanh'][@name='layers.act_std']/failure/@message)") ==
        "4 of 4 values outside tolerance");
  CHECK(xpath(xml, "count(//testcase[@name='loss < 100'])") == "1");
  CHECK(xpath(xml, "count(//testcase[@name='loss < 100']/failure)") == "0");
  CHECK(xpath(xml, "string(//testcase[@name='dead_units_frac <= 0.05 (layers 1..L)']/failure/@message)") ==
        fmt::format("{} of 8 values violate dead_units_frac <= 0.05 (layers 1..L)",
                    rep["rules"][0]["violations"].size()));
}

// --- compare mode: the network as it is now against the recorded one --------------------------

namespace {

const std::string kMlp = std::string(GRADFLOW_SOURCE_DIR) + "/configs/ci/mlp.json";

json analyze_json(std::vector<std::string> args) {
  args.insert(args.begin(), {"analyze", "--format", "json"});
  const ProcessResult r = run_gradflow(args);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("check --baseline --config: a changed init fails, every difference is what analyze reports") {
  const std::string dir = temp_dir(), base = dir + "/mlp.json";
  REQUIRE(run_gradflow({"analyze", "--config", kMlp, "--format", "json", "-o", base}).exit_code == 0);
  // Unchanged: the current config passes, and says so.
  const ProcessResult same = run_gradflow({"check", "--baseline", base, "--config", kMlp});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("compared with the network of " + kMlp) != std::string::npos);
  CHECK(same.out.find("config: as recorded in the baseline") != std::string::npos);

  // relu he_normal -> xavier_normal: the gate sees it, names the key, and fails on the signal.
  const ProcessResult r = run_gradflow({"check", "--baseline", base, "--config", kMlp, "-a", "relu", "--init",
                                        "xavier_normal"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("config changed: init (relu): he_normal -> xavier_normal") != std::string::npos);
  CHECK(r.out.find("config changed: init:") == std::string::npos);  // said once, per run, resolved
  CHECK(r.out.find("config changed: activation: tanh,relu,gelu -> relu") != std::string::npos);
  CHECK(r.out.find("tanh      -  recorded") != std::string::npos);  // a run no longer there fails
  CHECK(r.out.find("relu      -  signal_first_last_log10") != std::string::npos);

  // Every value in the JSON is analyze's own, for the recorded and for the changed network.
  const json rep = json::parse(run_gradflow({"check", "--baseline", base, "--config", kMlp, "-a", "relu", "--init",
                                             "xavier_normal", "--format", "json"}).out);
  const json before = json::parse(read_file(base))["runs"][1];
  const json after = analyze_json({"--config", kMlp, "-a", "relu", "--init", "xavier_normal"})["runs"][0];
  REQUIRE(before["activation"] == "relu");
  CHECK(rep["baseline"]["mode"] == "compare");
  int seen = 0;
  for (const json& g : rep["baseline"]["groups"]) {
    if (g["run"] != "relu") continue;
    for (const json& m : g["mismatches"]) {
      const std::string metric = g["metric"];
      const json& e = g["scope"] == "summary" ? before["summary"][metric] : before["layers"][m["layer"].get<int>() - 1][metric];
      const json& v = g["scope"] == "summary" ? after["summary"][metric] : after["layers"][m["layer"].get<int>() - 1][metric];
      CHECK(m["expected"] == e);
      CHECK(m["got"] == v);
      ++seen;
    }
  }
  CHECK(seen > 100);
  // he -> xavier for relu: 12 layers at x0.71 in the RMS, about -1.7 decades (the report)
  CHECK(after["summary"]["signal_first_last_log10"].get<double>() < -1.3);
  CHECK(before["summary"]["signal_first_last_log10"].get<double>() > -0.5);
}

TEST_CASE("check --baseline with network options only: they change the baseline's own config") {
  const std::string dir = temp_dir(), base = record_baseline(dir);
  const ProcessResult r = run_gradflow({"check", "--baseline", base, "--bias-init=-0.1"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("compared with the network of command line") != std::string::npos);
  CHECK(r.out.find("config changed: bias-init: 0 -> -0.1") != std::string::npos);
  CHECK(r.out.find("config changed: seed") == std::string::npos);  // the rest is the baseline's (seed 3)
  // A new weight scale replaces the recorded one whole: no clash with a scale never typed.
  const std::string scaled = dir + "/scaled.json";
  std::vector<std::string> rec = {"analyze", "--format", "json", "-o", scaled, "--sigma-w2", "2"};
  rec.insert(rec.end(), kNet.begin(), kNet.end());
  REQUIRE(run_gradflow(rec).exit_code == 0);
  const ProcessResult init = run_gradflow({"check", "--baseline", scaled, "--init", "he_normal"});
  INFO(init.err);
  // he_normal draws Var(W) = 2/fan_in, as --sigma-w2 2 did: the same weights, the same numbers
  CHECK(init.exit_code == 0);
  CHECK(init.out.find("config changed: sigma-w2: 2 -> unset") != std::string::npos);
  CHECK(init.out.find("config changed: init (tanh): sigma_w2=2 -> he_normal") != std::string::npos);

  // --update accepts the change: the baseline becomes the changed network, which then passes.
  CHECK(run_gradflow({"check", "--baseline", base, "--bias-init=-0.1", "--update"}).exit_code == 0);
  std::vector<std::string> a = {"analyze", "--format", "json", "--bias-init=-0.1"};
  a.insert(a.end(), kNet.begin(), kNet.end());
  CHECK(read_file(base) == run_gradflow(a).out);
  CHECK(run_gradflow({"check", "--baseline", base, "--bias-init=-0.1", "--atol", "0", "--rtol", "0"}).exit_code == 0);
  // A deeper network compares layer by layer: the extra layers hold against nothing.
  const json deeper = json::parse(run_gradflow({"check", "--baseline", base, "-d", "5", "--format", "json"}).out);
  bool extra_layer = false;
  for (const json& g : deeper["baseline"]["groups"])
    for (const json& m : g["mismatches"]) extra_layer = extra_layer || (m["layer"] == 5 && m["expected"].is_null());
  CHECK(extra_layer);
}

// --- the default rule set ----------------------------------------------------------------

namespace {

ProcessResult check_rules(std::vector<std::string> args) {
  args.insert(args.begin(), "check");
  return run_gradflow(args);
}

}  // namespace

TEST_CASE("the default rules pass the CI network and the healthy presets") {
  const std::string configs = std::string(GRADFLOW_SOURCE_DIR) + "/configs/";
  const std::vector<std::vector<std::string>> healthy = {
      {"--config", kMlp},                                           // bare: the default rules
      {"--config", kMlp, "--rules", "default"},                     // named
      {"--config", configs + "default.json", "-a", "tanh,relu"},    // the story's healthy two
      {"--config", configs + "relu-xavier.json", "--init", "he_normal", "-w", "128", "-b", "128"},  // its fix
      {"--config", configs + "zero-centring.json", "-a", "tanh"},
      {"-a", "tanh,relu", "-d", "5", "-w", "128", "-b", "128"},      // relu-vs-tanh.json's network
      {"-a", "relu", "-d", "6", "-w", "64", "-b", "64", "--classes", "3"},  // dying-relu.json's, at step 0
  };
  for (const auto& args : healthy) {
    const ProcessResult r = check_rules(args);
    INFO(args.back(), r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("passed: 6 checks") != std::string::npos);
  }
}

TEST_CASE("the default rules fail each classic mistake, on the rule that explains it") {
  const std::string configs = std::string(GRADFLOW_SOURCE_DIR) + "/configs/";
  struct Case {
    std::vector<std::string> args;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {{"--config", kMlp, "-a", "relu", "--init", "xavier_normal"}, "FAIL  rule signal_first_last_log10 >= -1"},
      {{"--config", kMlp, "-a", "relu", "--bias-init=-0.1"}, "FAIL  rule inactive_frac <= 0.6 (layers 1..L)"},
      {{"--config", kMlp, "-a", "sigmoid", "-d", "20"}, "FAIL  rule grad_factor_per_layer >= 0.7"},
      {{"--config", kMlp, "-a", "tanh", "--sigma-w2", "4"}, "FAIL  rule grad_factor_per_layer <= 1.12"},
      {{"--config", configs + "deep-sigmoid.json", "-w", "64", "-b", "64"}, "FAIL  rule grad_factor_per_layer >= 0.7"},
      {{"--config", configs + "tanh-saturation.json", "-w", "64", "-b", "64"}, "FAIL  rule grad_factor_per_layer <= 1.12"},
      {{"--config", configs + "relu-dead.json", "-w", "64", "-b", "64"}, "FAIL  rule dead_units_frac <= 0.3"},
      {{"--config", configs + "relu-xavier.json", "-w", "64", "-b", "64"}, "FAIL  rule signal_first_last_log10 >= -1"},
  };
  for (const Case& c : cases) {
    const ProcessResult r = check_rules(c.args);
    INFO(c.args[1], " ", c.args.back(), r.out, r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find(c.rule) != std::string::npos);
  }
  // The rules are analyze's numbers against fixed bounds: recompute the verdict of one by hand.
  const json relu = analyze_json({"--config", kMlp, "-a", "relu", "--bias-init=-0.1"})["runs"][0];
  double worst = 0;
  for (const json& l : relu["layers"]) worst = std::max(worst, l["inactive_frac"].get<double>());
  CHECK(worst > 0.6);
}

TEST_CASE("the forward-signal and gradient-scale summaries are the per-layer numbers analyze reports") {
  const json doc = analyze_json({"--config", kMlp, "--seed", "4"});
  for (const json& run : doc["runs"]) {
    const json& first = run["layers"].front();
    const json& last = run["layers"].back();
    const double rms_first = std::hypot(first["preact_mean"].get<double>(), first["preact_std"].get<double>());
    const double rms_last = std::hypot(last["preact_mean"].get<double>(), last["preact_std"].get<double>());
    const double signal = std::log10(rms_last / rms_first);
    double top = -1e300;
    for (const json& l : run["layers"]) top = std::max(top, l["grad_weight_log10"].get<double>());
    const json& s = run["summary"];
    CAPTURE(run["activation"]);
    CHECK(s["signal_first_last_log10"].get<double>() == doctest::Approx(signal).epsilon(1e-12));
    CHECK(s["signal_factor_per_layer"].get<double>() == doctest::Approx(std::pow(10.0, signal / 11)).epsilon(1e-12));
    CHECK(s["grad_weight_log10_max"].get<double>() == top);
  }
  // Rule bounds and tolerances take fractions too.
  const ProcessResult r = run_gradflow({"check", "--config", kMlp, "-a", "tanh", "--rule", "grad_factor_per_layer >= 7/10"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("PASS  rule grad_factor_per_layer >= 0.7 [--rule]") != std::string::npos);
  const std::string dir = temp_dir(), base = record_baseline(dir);
  json doc2 = json::parse(read_file(base));
  doc2["runs"][0]["summary"]["loss"] = doc2["runs"][0]["summary"]["loss"].get<double>() + 0.0009;
  write_file(base, doc2.dump());
  CHECK(run_gradflow({"check", "--baseline", base}).exit_code == 1);
  CHECK(run_gradflow({"check", "--baseline", base, "--metric-atol", "loss=1/1000"}).exit_code == 0);
}

TEST_CASE("check --baseline compares --jacobian's figures: reproduced exactly, and a moved one fails") {
  const std::string dir = temp_dir(), base = dir + "/jac.json";
  std::vector<std::string> a = {"analyze", "--format", "json", "-o", base, "--jacobian", "--jacobian-samples", "2"};
  a.insert(a.end(), kNet.begin(), kNet.end());
  REQUIRE(run_gradflow(a).exit_code == 0);
  const std::size_t jac = gf::jacobian_metrics().size();
  const ProcessResult same = run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find(fmt::format("PASS  baseline: all {} values of {} metrics match", kValues + 2 * jac,
                                  kMetrics + 2 * jac)) != std::string::npos);

  json doc = json::parse(read_file(base));
  doc["runs"][0]["jacobian"]["jac_s2_mean"] = doc["runs"][0]["jacobian"]["jac_s2_mean"].get<double>() * 1.01;
  write_file(base, doc.dump(2));
  const ProcessResult moved = run_gradflow({"check", "--baseline", base});
  INFO(moved.out);
  CHECK(moved.exit_code == 1);
  CHECK(moved.out.find("tanh      -  jac_s2_mean") != std::string::npos);
}

TEST_CASE("check rules on --jacobian's figures and on a partial's (jac_<figure>_from_<l>): each passes just above "
          "the value analyze reports and fails just below it") {
  const std::vector<std::string> net = {"-a", "tanh", "-d", "6", "-w", "16", "-b", "8", "--seed", "3", "--jacobian",
                                        "--jacobian-samples", "2", "--jacobian-depths", "3"};
  std::vector<std::string> a = {"analyze", "--format", "json"};
  a.insert(a.end(), net.begin(), net.end());
  const ProcessResult analyzed = run_gradflow(a);
  REQUIRE(analyzed.exit_code == 0);
  const json doc = json::parse(analyzed.out);
  const json& run = doc["runs"][0];
  REQUIRE(run["jacobian_partials"][0]["layer"] == 3);
  for (const auto& [metric, value] :
       {std::pair{std::string("jac_s2_var_rel"), run["jacobian"]["jac_s2_var_rel"].get<double>()},
        std::pair{std::string("jac_s2_var_rel_from_3"), run["jacobian_partials"][0]["jac_s2_var_rel"].get<double>()},
        std::pair{std::string("jac_s_max_log10_from_3"), run["jacobian_partials"][0]["jac_s_max_log10"].get<double>()}}) {
    CAPTURE(metric);
    auto check_with = [&](const std::string& rule) {
      std::vector<std::string> c = {"check", "--rule", rule};
      c.insert(c.end(), net.begin(), net.end());
      return run_gradflow(c);
    };
    const double margin = 1e-6 * std::max(1.0, std::fabs(value));
    const ProcessResult pass = check_with(fmt::format("{} <= {:.17g}", metric, value + margin));
    INFO(pass.out, pass.err);
    CHECK(pass.exit_code == 0);
    CHECK(pass.out.find(fmt::format("PASS  rule {} <=", metric)) != std::string::npos);
    const ProcessResult fail = check_with(fmt::format("{} <= {:.17g}", metric, value - margin));
    INFO(fail.out);
    CHECK(fail.exit_code == 1);
    CHECK(fail.out.find(fmt::format("{:.6g}", value)) != std::string::npos);  // the violation's value
  }
  // The partial and J differ (3 of 6 layers spanned), so the rules above read different numbers.
  CHECK(run["jacobian_partials"][0]["jac_s2_var_rel"] != run["jacobian"]["jac_s2_var_rel"]);

  // A partial not measured is a usage error naming the flag, never a silent pass.
  std::vector<std::string> missing = {"check", "--rule", "jac_s2_mean_from_2 >= 0"};
  missing.insert(missing.end(), net.begin(), net.end());
  const ProcessResult not_measured = run_gradflow(missing);
  CHECK(not_measured.exit_code == 2);
  CHECK(not_measured.err.find("jac_s2_mean_from_2 is the partial Jacobian d a_L / d a_2, measured only with --jacobian-depths") != std::string::npos);
  for (const char* bad : {"jac_s2_mean_from_x >= 0", "jac_s2_mean_from_03 >= 0", "jac_nothing_from_3 >= 0"}) {
    const ProcessResult r = run_gradflow({"check", "-a", "tanh", "--jacobian", "--rule", bad});
    CAPTURE(bad);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("unknown metric") != std::string::npos);
  }
}

TEST_CASE("check --baseline covers --jacobian-depths' partials: rerun exactly, a moved partial fails by name, and "
          "a changed spectrum (orthogonal -> Gaussian weights) fails J's figures and the partials'") {
  const std::string dir = temp_dir(), base = dir + "/iso.json";
  const std::vector<std::string> net = {"-a", "identity", "--init", "orthogonal", "-d", "6", "-w", "16", "-b", "8",
                                        "--jacobian", "--jacobian-samples", "2", "--jacobian-depths", "0,3"};
  std::vector<std::string> a = {"analyze", "--format", "json", "-o", base};
  a.insert(a.end(), net.begin(), net.end());
  REQUIRE(run_gradflow(a).exit_code == 0);
  const std::size_t jac = gf::jacobian_metrics().size();
  const std::size_t per_run = gf::baseline_metrics_per_run(), values = 3 + gf::summary_metrics().size() +
                                                                       6 * gf::layer_metrics().size();
  const ProcessResult same = run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  // J's figures once, and each of the two partials' (l = 0 is J again)
  CHECK(same.out.find(fmt::format("PASS  baseline: all {} values of {} metrics match", values + 3 * jac,
                                  per_run + 3 * jac)) != std::string::npos);

  json doc = json::parse(read_file(base));
  auto& partial = doc["runs"][0]["jacobian_partials"][1];
  REQUIRE(partial["layer"] == 3);
  partial["jac_s2_mean"] = partial["jac_s2_mean"].get<double>() * 1.01;
  const std::string moved_file = dir + "/moved.json";
  write_file(moved_file, doc.dump(2));
  const ProcessResult moved = run_gradflow({"check", "--baseline", moved_file});
  INFO(moved.out);
  CHECK(moved.exit_code == 1);
  CHECK(moved.out.find("identity      -  jac_s2_mean_from_3") != std::string::npos);
  CHECK(moved.out.find("1 of ") != std::string::npos);  // that value alone
  // a tolerance on the figure covers its partials
  CHECK(run_gradflow({"check", "--baseline", moved_file, "--metric-rtol", "jac_s2_mean=0.02"}).exit_code == 0);

  // The network's weights change from orthogonal (every s = 1) to Gaussian: the spectrum spreads.
  const ProcessResult gaussian =
      run_gradflow({"check", "--baseline", base, "--init", "xavier_normal", "--format", "json"});
  CHECK(gaussian.exit_code == 1);
  const json report = json::parse(gaussian.out);
  std::vector<std::string> failed;
  for (const json& g : report["baseline"]["groups"])
    if (!g["passed"].get<bool>()) failed.push_back(g["scope"].get<std::string>() + ":" + g["metric"].get<std::string>());
  for (const char* name : {"jacobian:jac_s2_var_rel", "jacobian:jac_isometry", "jacobian_partials:jac_s2_var_rel_from_0",
                           "jacobian_partials:jac_s2_var_rel_from_3", "jacobian_partials:jac_isometry_from_3"}) {
    CAPTURE(name);
    CHECK(std::find(failed.begin(), failed.end(), name) != failed.end());
  }
}
