#include "batch/rules.h"

#include <doctest/doctest.h>

#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

// A two-layer run with hand-set metrics.
RunResult fake_run(const std::string& activation, double dead1, double dead2, double factor) {
  RunResult r;
  r.activation = activation;
  r.pass.layers.resize(2);
  r.pass.layers[0].layer = 1;
  r.pass.layers[0].dead_units_frac = dead1;
  r.pass.layers[1].layer = 2;
  r.pass.layers[1].dead_units_frac = dead2;
  r.summary.grad_factor_per_layer = factor;
  r.summary.dead_units_frac = (dead1 + dead2) / 2;
  return r;
}

}  // namespace

TEST_CASE("rules parse from text and JSON alike") {
  const Rule a = parse_rule("dead_units_frac<=0.05 layers=2:3 activation=relu", "--rule");
  CHECK(a.metric == "dead_units_frac");
  CHECK(a.op == RuleOp::le);
  CHECK(a.bound == 0.05);
  CHECK(a.per_layer);
  CHECK(a.first_layer == 2);
  CHECK(a.last_layer == 3);
  CHECK(a.activation == "relu");
  CHECK(a.text() == "dead_units_frac <= 0.05 (layers 2..3, relu)");
  const Rule b = parse_rule(R"({"metric": "dead_units_frac", "op": "<=", "bound": 0.05, "layers": [2, 3], "activation": "relu"})", "x");
  CHECK(b.text() == a.text());
  const Rule c = parse_rule("  grad_factor_per_layer >  0.8 ", "--min-grad-factor");
  CHECK(c.op == RuleOp::gt);
  CHECK_FALSE(c.per_layer);  // a summary metric: once per run
  CHECK(parse_rule("dead_units_frac <= 0.1", "x").per_layer == false);  // both kinds: the summary's
  CHECK(parse_rule("dead_units_frac <= 0.1 layers=1:", "x").text() == "dead_units_frac <= 0.1 (layers 1..L)");
  CHECK(parse_rule("grad_weight_log10 >= -3", "x").per_layer);  // layer-only metrics: every layer
  CHECK(parse_rule("saturated_frac < 0.5 layers=4", "x").text() == "saturated_frac < 0.5 (layer 4)");
}

TEST_CASE("bad rules say what is wrong") {
  CHECK(error_of([] { parse_rule("dead_unit_frac <= 1", "--rule"); }).find("did you mean 'dead_units_frac'") !=
        std::string::npos);
  CHECK(error_of([] { parse_rule("loss 1", "--rule"); }).find("is not a rule") != std::string::npos);
  CHECK(error_of([] { parse_rule("loss <= x", "--rule"); }).find("bound 'x' is not a number") != std::string::npos);
  CHECK(error_of([] { parse_rule("loss <= 1 layers=1:2", "--rule"); }).find("summary metric") != std::string::npos);
  CHECK(error_of([] { parse_rule("act_std <= 1 layers=3:2", "--rule"); }).find("not a layer range") != std::string::npos);
  CHECK(error_of([] { parse_rule("act_std <= 1 activation=tahn", "--rule"); }).find("did you mean 'tanh'") !=
        std::string::npos);
  CHECK(error_of([] { parse_rule(R"({"metric": "loss", "bound": 1})", "cfg"); }).find("has no \"op\"") !=
        std::string::npos);
  CHECK(error_of([] { parse_rule(R"({"metric": "loss", "op": "<", "bound": 1, "layer": 2})", "cfg"); })
            .find("did you mean 'layers'") != std::string::npos);
}

TEST_CASE("evaluation finds exactly the values outside the bound, undefined ones included") {
  const RunResult relu = fake_run("relu", 0.0, 0.25, 0.9), tanh = fake_run("tanh", 0.1, kNaN, kNaN);
  const std::vector<CheckedRun> runs{{"cfg-a", &relu}, {"cfg-b", &tanh}};
  const RuleOutcome per_layer = evaluate_rule(parse_rule("dead_units_frac <= 0.05 layers=1:", "x"), runs);
  CHECK(per_layer.checked == 4);
  REQUIRE(per_layer.violations.size() == 3);
  CHECK(per_layer.violations[0].config == "cfg-a");
  CHECK(per_layer.violations[0].layer == 2);
  CHECK(per_layer.violations[0].value == 0.25);
  CHECK(per_layer.violations[1].activation == "tanh");
  CHECK(per_layer.violations[1].layer == 1);
  CHECK(std::isnan(per_layer.violations[2].value));  // undefined never passes
  const RuleOutcome summary = evaluate_rule(parse_rule("grad_factor_per_layer >= 0.8", "x"), runs);
  CHECK(summary.checked == 2);
  REQUIRE(summary.violations.size() == 1);
  CHECK(summary.violations[0].layer == 0);
  const RuleOutcome only_relu = evaluate_rule(parse_rule("dead_units_frac < 0.3 layers=2 activation=relu", "x"), runs);
  CHECK(only_relu.checked == 1);
  CHECK(only_relu.violations.empty());
  CHECK(error_of([&] { evaluate_rule(parse_rule("act_std < 1 activation=selu", "--rule"), runs); })
            .find("checks nothing") != std::string::npos);
  CHECK(error_of([&] { evaluate_rule(parse_rule("act_std < 1 layers=3:", "--rule"), runs); })
            .find("has layer 3") != std::string::npos);
}
