#include "cmd_check.h"

#include <cstdio>
#include <fmt/format.h>

#include "baseline.h"
#include "cmd_analyze.h"
#include "cmd_sweep.h"
#include "errors.h"
#include "exit_status.h"
#include "interrupt.h"
#include "junit.h"
#include "output.h"
#include "report_json.h"
#include "rules.h"
#include "run_pool.h"
#include "suggest.h"
#include "text_table.h"
#include "validators.h"

namespace gf {

using ojson = nlohmann::ordered_json;

CLI::App* setup_check(CLI::App& app, CheckOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "check",
      "A regression gate for CI. With --baseline, rerun the analysis recorded in an `analyze` JSON "
      "and compare every summary and per-layer metric within tolerances. With rules (--max-dead-frac, "
      "--rule, ...), run the networks given by the options below (lists and ranges as in sweep) and "
      "check bounds on their metrics. Exit 1 if anything fails, 0 if all holds.");
  add_grid_options(*cmd, o.grid);
  cmd->add_option("--config", o.config_file,
                  "Read options from a JSON file whose keys are the long option names (an analyze "
                  "config works; \"rules\" may list rules); flags given on the command line win")
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");

  cmd->add_option("--baseline", o.baseline,
                  "An `analyze --format json` document to rerun (its config, seed and dtype) and "
                  "compare with; the network options above must then be left out")
      ->type_name("FILE")
      ->group("Baseline");
  cmd->add_option("--atol", o.atol,
                  "Absolute tolerance: a value holds when |got - expected| <= atol + rtol x |expected| "
                  "(+ the count slack)")
      ->type_name("A")
      ->default_str("1e-4")
      ->check(real_number(0, 1e300))
      ->group("Baseline");
  cmd->add_option("--rtol", o.rtol, "Relative tolerance")
      ->type_name("R")
      ->default_str("1e-4")
      ->check(real_number(0, 1e300))
      ->group("Baseline");
  cmd->add_option("--count-slack", o.count_slack,
                  "Fractions of counted things (saturated_frac, dead_units_frac, dw_sign_coherence, "
                  "...) may also differ by this many counts, e.g. 2/(batch x width) for saturated_frac: "
                  "a value on a threshold flips with the last bit of rounding on another machine")
      ->type_name("N")
      ->default_str("2")
      ->check(real_number(0, 1e300))
      ->group("Baseline");
  cmd->add_option("--metric-atol", o.metric_atol, "Absolute tolerance of one metric (repeatable)")
      ->type_name("METRIC=A")
      ->group("Baseline");
  cmd->add_option("--metric-rtol", o.metric_rtol, "Relative tolerance of one metric (repeatable)")
      ->type_name("METRIC=R")
      ->group("Baseline");
  cmd->add_flag("--update", o.update,
                "Rewrite the baseline with this run's results (differences are shown, not failed)")
      ->group("Baseline")
      ->configurable(false);

  cmd->add_option("--rule,--rules", o.rules,
                  "A bound: 'METRIC OP BOUND [layers=A:B] [activation=NAME]', OP one of < <= > >=, "
                  "e.g. 'grad_weight_rel_log10 >= -2 layers=2:'; summary metrics are checked once "
                  "per run, per-layer metrics on each layer (repeatable; in a config file: \"rules\", "
                  "a list of such strings or of {\"metric\", \"op\", \"bound\", \"layers\", \"activation\"})")
      ->type_name("RULE")
      ->group("Rules");
  cmd->add_option("--max-dead-frac", o.max_dead_frac,
                  "Rule: no layer has a larger share of dead units (dead_units_frac <= F on every layer)")
      ->type_name("F")
      ->check(real_number(0, 1))
      ->group("Rules");
  cmd->add_option("--max-saturated-frac", o.max_saturated_frac,
                  "Rule: saturated_frac <= F on every layer. It counts every unit-sample whose slope "
                  "is below sat-eps x the maximum, relu's x < 0 included: gate relu-like runs with "
                  "--max-dead-frac, or scope this with --rule '... activation=tanh'")
      ->type_name("F")
      ->check(real_number(0, 1))
      ->group("Rules");
  cmd->add_option("--min-grad-factor", o.min_grad_factor,
                  "Rule: grad_factor_per_layer >= R (the gradient shrinks by at most this factor per "
                  "layer, going down)")
      ->type_name("R")
      ->check(real_number(0, 1e300))
      ->group("Rules");
  cmd->add_option("--max-grad-factor", o.max_grad_factor, "Rule: grad_factor_per_layer <= R")
      ->type_name("R")
      ->check(real_number(0, 1e300))
      ->group("Rules");
  cmd->add_option("--max-act-offset", o.max_act_offset,
                  "Rule: act_offset_mean <= F (activations zero-centred enough)")
      ->type_name("F")
      ->check(real_number(0, 1))
      ->group("Rules");

  cmd->add_option("-j,--jobs", o.jobs, "Runs at once, each on its own worker thread")
      ->type_name("N")
      ->default_str("cores / --threads")
      ->check(whole_number(1, 4096))
      ->group("Resources");
  cmd->add_option("--threads", o.threads, "Threads inside each run; results are identical for any number")
      ->type_name("T")
      ->default_str("1")
      ->check(whole_number(1, 4096))
      ->group("Resources");
  cmd->add_option("--max-runs", o.max_runs, "Refuse a grid with more runs than this")
      ->type_name("N")
      ->default_str("10000")
      ->check(whole_number(1, 1LL << 40))
      ->group("Resources");

  add_output_options(*cmd, o.format, {"table", "json"}, o.output, nullptr);
  cmd->add_option("--junit", o.junit,
                  "Also write JUnit XML to FILE: one testcase per rule and per compared metric of each run")
      ->type_name("FILE")
      ->group("Output");
  cmd->footer(
      "Examples:\n"
      "  gradflow analyze --config configs/ci/mlp.json --format json -o tests/baselines/mlp.json   # record once\n"
      "  gradflow check --baseline tests/baselines/mlp.json                                        # in CI\n"
      "  gradflow check --config configs/ci/mlp.json --max-dead-frac 0.05 --min-grad-factor 0.8 --junit report.xml\n"
      "  gradflow check -a relu,tanh -d 10:30:10 --rule 'grad_first_last_log10 >= -1' --rule 'dead_units_frac <= 0.1 layers=1:'\n"
      "Tolerances: the same build on the same machine reproduces every number exactly. The defaults\n"
      "let an f32 baseline pass on a machine with another vector unit (measured: AVX-512 vs SSE2),\n"
      "chaotic networks aside: see the README's section on choosing tolerances.");
  return cmd;
}

namespace {

struct Checked {
  std::vector<RunResult> results;
  std::vector<std::string> labels;  // the config of each run, for violations
};

// Runs each config (one activation each) on the worker pool; results in order.
std::vector<RunResult> run_all(const std::vector<AnalysisConfig>& configs, int workers) {
  std::vector<RunResult> results(configs.size());
  PoolCallbacks cb;
  cb.work = [&](std::size_t k) { results[k] = run_one(configs[k], *find_activation(configs[k].activations[0])); };
  cb.deliver = [](std::size_t) {};
  if (run_in_order(configs.size(), workers, cb).interrupted) throw Interrupted();
  return results;
}

std::vector<Rule> collect_rules(const CheckOptions& o) {
  std::vector<Rule> rules;
  auto flag = [&](const std::optional<double>& v, const char* name, const char* text) {
    if (v) rules.push_back(parse_rule(fmt::format(fmt::runtime(text), *v), name));
  };
  flag(o.max_dead_frac, "--max-dead-frac", "dead_units_frac <= {} layers=1:");
  flag(o.max_saturated_frac, "--max-saturated-frac", "saturated_frac <= {} layers=1:");
  flag(o.min_grad_factor, "--min-grad-factor", "grad_factor_per_layer >= {}");
  flag(o.max_grad_factor, "--max-grad-factor", "grad_factor_per_layer <= {}");
  flag(o.max_act_offset, "--max-act-offset", "act_offset_mean <= {}");
  for (std::size_t k = 0; k < o.rules.size(); ++k)
    rules.push_back(parse_rule(o.rules[k], o.rules.size() == 1 ? "--rule" : fmt::format("--rule #{}", k + 1)));
  return rules;
}

std::string num(double v, const char* spec = "{:.6g}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : std::string("-");
}
std::string num(const ojson& v) { return v.is_number() ? num(v.get<double>()) : "null"; }
std::string layer_text(Index l) { return l ? std::to_string(l) : "-"; }

struct Report {
  const Baseline* baseline = nullptr;
  Tolerance tol;
  bool update = false;
  std::vector<ComparisonGroup> groups;
  std::vector<std::string> not_in_baseline;
  std::vector<Rule> rules;
  std::vector<RuleOutcome> outcomes;
  std::size_t runs = 0;

  std::size_t failed_groups() const {
    std::size_t n = 0;
    for (const ComparisonGroup& g : groups) n += !g.mismatches.empty();
    return update ? 0 : n;
  }
  std::size_t failed_rules() const {
    std::size_t n = 0;
    for (const RuleOutcome& r : outcomes) n += !r.violations.empty();
    return n;
  }
  std::size_t checks() const { return (update ? 0 : groups.size()) + rules.size(); }
  bool passed() const { return failed_groups() == 0 && failed_rules() == 0; }
};

TextTable mismatch_table(const Report& r, std::size_t max_rows, std::size_t& shown, std::size_t& total) {
  TextTable t;
  t.header = {"run", "layer", "metric", "expected", "got", "difference", "allowed"};
  t.right = {false, true, false, true, true, true, true};
  shown = total = 0;
  for (const ComparisonGroup& g : r.groups)
    for (const Mismatch& m : g.mismatches) {
      ++total;
      if (shown >= max_rows) continue;
      ++shown;
      t.rows.push_back({g.run, layer_text(m.layer), g.metric, num(m.expected), num(m.got),
                        num(m.difference, "{:+.3g}"), num(m.allowed, "{:.2g}")});
    }
  return t;
}

TextTable violation_table(const Rule& rule, const RuleOutcome& out, std::size_t max_rows) {
  TextTable t;
  t.header = {"config", "activation", "layer", "metric", "value", "bound"};
  t.right = {false, false, true, false, true, false};
  for (std::size_t k = 0; k < out.violations.size() && k < max_rows; ++k) {
    const Violation& v = out.violations[k];
    t.rows.push_back({v.config, v.activation, layer_text(v.layer), rule.metric, num(v.value), rule.bound_text()});
  }
  return t;
}

std::string table_report(const Report& r, const CheckOptions& o) {
  std::string out;
  std::vector<std::string> parts;
  if (r.baseline) parts.push_back(fmt::format("baseline {}", r.baseline->path));
  parts.push_back(fmt::format("{} run{}", r.runs, r.runs == 1 ? "" : "s"));
  if (!r.rules.empty()) parts.push_back(fmt::format("{} rule{}", r.rules.size(), r.rules.size() == 1 ? "" : "s"));
  out += "gradflow check: " + join(parts) + "\n";

  if (r.baseline) {
    std::size_t values = 0, bad = 0, bad_groups = 0;
    for (const ComparisonGroup& g : r.groups) {
      values += g.compared;
      bad += g.mismatches.size();
      bad_groups += !g.mismatches.empty();
    }
    const std::string tol = fmt::format("atol {:g}, rtol {:g}, {:g} counts{}", r.tol.atol, r.tol.rtol, r.tol.count_slack,
                                        r.tol.atol_for.empty() && r.tol.rtol_for.empty() ? "" : ", with per-metric overrides");
    if (bad == 0) {
      out += fmt::format("PASS  baseline: all {} values of {} metrics match ({})\n", values, r.groups.size(), tol);
    } else {
      out += fmt::format("{}  baseline: {} of {} values, in {} of {} metrics, outside tolerance ({})\n",
                         r.update ? "DIFF" : "FAIL", bad, values, bad_groups, r.groups.size(), tol);
      std::size_t shown = 0, total = 0;
      out += mismatch_table(r, o.max_rows, shown, total).render("  ");
      if (shown < total) out += fmt::format("  ... and {} more (--format json lists every one)\n", total - shown);
    }
    if (!r.not_in_baseline.empty())
      out += fmt::format("  note: not in the baseline, so not compared (new since it was recorded; --update "
                         "adds them): {}\n",
                         join(r.not_in_baseline));
    const ojson& ctx = r.baseline->doc.contains("context") ? r.baseline->doc["context"] : ojson::object();
    const ojson here = context_json(r.baseline->config.dtype);
    if (bad && ctx.value("simd", "") != here.value("simd", ""))
      out += fmt::format("  note: the baseline was recorded with SIMD \"{}\", this build uses \"{}\": float "
                         "rounding differs; see the README on tolerances\n",
                         ctx.value("simd", "?"), here.value("simd", "?"));
  }
  for (std::size_t k = 0; k < r.rules.size(); ++k) {
    const Rule& rule = r.rules[k];
    const RuleOutcome& res = r.outcomes[k];
    if (res.violations.empty()) {
      out += fmt::format("PASS  rule {} [{}]: {} value{}\n", rule.text(), rule.origin, res.checked,
                         res.checked == 1 ? "" : "s");
      continue;
    }
    out += fmt::format("FAIL  rule {} [{}]: {} of {} values violate it\n", rule.text(), rule.origin,
                       res.violations.size(), res.checked);
    out += violation_table(rule, res, o.max_rows).render("  ");
    if (res.violations.size() > o.max_rows)
      out += fmt::format("  ... and {} more (--format json lists every one)\n", res.violations.size() - o.max_rows);
  }
  const std::size_t failed = r.failed_groups() + r.failed_rules();
  if (r.update) out += fmt::format("gradflow check: baseline {} updated\n", r.baseline->path);
  out += failed ? fmt::format("gradflow check: FAILED: {} of {} checks\n", failed, r.checks())
                : fmt::format("gradflow check: passed: {} check{}\n", r.checks(), r.checks() == 1 ? "" : "s");
  return out;
}

std::string json_report(const Report& r) {
  ojson doc = {{"schema_version", kSchemaVersion}, {"tool", "gradflow"}, {"command", "check"},
               {"passed", r.passed()}, {"checks", r.checks()},
               {"failed", r.failed_groups() + r.failed_rules()}, {"runs", r.runs}};
  if (r.baseline) {
    ojson groups = ojson::array();
    for (const ComparisonGroup& g : r.groups) {
      ojson mismatches = ojson::array();
      for (const Mismatch& m : g.mismatches)
        mismatches.push_back({{"layer", m.layer ? ojson(m.layer) : ojson(nullptr)}, {"expected", m.expected},
                              {"got", m.got}, {"difference", number_or_null(m.difference)},
                              {"allowed", number_or_null(m.allowed)}});
      groups.push_back({{"run", g.run}, {"scope", g.scope}, {"metric", g.metric}, {"compared", g.compared},
                        {"passed", g.mismatches.empty()}, {"mismatches", std::move(mismatches)}});
    }
    ojson atol_for = r.tol.atol_for, rtol_for = r.tol.rtol_for;
    doc["baseline"] = {{"file", r.baseline->path}, {"updated", r.update}, {"atol", r.tol.atol},
                       {"rtol", r.tol.rtol}, {"count_slack", r.tol.count_slack}, {"metric_atol", atol_for}, {"metric_rtol", rtol_for},
                       {"not_in_baseline", r.not_in_baseline},
                       {"groups", std::move(groups)}};
  }
  ojson rules = ojson::array();
  for (std::size_t k = 0; k < r.rules.size(); ++k) {
    const Rule& rule = r.rules[k];
    ojson violations = ojson::array();
    for (const Violation& v : r.outcomes[k].violations)
      violations.push_back({{"config", v.config}, {"activation", v.activation},
                            {"layer", v.layer ? ojson(v.layer) : ojson(nullptr)}, {"metric", rule.metric},
                            {"value", number_or_null(v.value)}, {"op", rule.op_text()},
                            {"bound", rule.bound}});
    rules.push_back({{"rule", rule.text()}, {"origin", rule.origin}, {"metric", rule.metric},
                     {"op", rule.op_text()}, {"bound", rule.bound},
                     {"checked", r.outcomes[k].checked}, {"passed", violations.empty()},
                     {"violations", std::move(violations)}});
  }
  doc["rules"] = std::move(rules);
  return doc.dump(2) + "\n";
}

std::string junit_report(const Report& r) {
  std::vector<JUnitSuite> suites;
  if (r.baseline && !r.update) {
    JUnitSuite s{"baseline " + r.baseline->path, {}};
    for (const ComparisonGroup& g : r.groups) {
      JUnitCase c{"gradflow.baseline." + g.run, g.scope + "." + g.metric, !g.mismatches.empty(), "", ""};
      if (c.failed) {
        c.message = fmt::format("{} of {} values outside tolerance", g.mismatches.size(), g.compared);
        for (const Mismatch& m : g.mismatches)
          c.details += fmt::format("layer {}: expected {}, got {}, difference {}, allowed {}\n", layer_text(m.layer),
                                   num(m.expected), num(m.got), num(m.difference, "{:+.3g}"),
                                   num(m.allowed, "{:.2g}"));
      }
      s.cases.push_back(std::move(c));
    }
    suites.push_back(std::move(s));
  }
  if (!r.rules.empty()) {
    JUnitSuite s{"rules", {}};
    for (std::size_t k = 0; k < r.rules.size(); ++k) {
      const Rule& rule = r.rules[k];
      const RuleOutcome& res = r.outcomes[k];
      JUnitCase c{"gradflow.rules", rule.text(), !res.violations.empty(), "", ""};
      if (c.failed) {
        c.message = fmt::format("{} of {} values violate {}", res.violations.size(), res.checked, rule.text());
        for (const Violation& v : res.violations)
          c.details += fmt::format("config {}, activation {}, layer {}: {} = {}, bound {}\n", v.config, v.activation,
                                   layer_text(v.layer), rule.metric, num(v.value), rule.bound_text());
      }
      s.cases.push_back(std::move(c));
    }
    suites.push_back(std::move(s));
  }
  return junit_xml(suites);
}

}  // namespace

int run_check(const CheckOptions& o) {
  const std::vector<Rule> rules = collect_rules(o);
  Report report;
  report.rules = rules;
  report.update = o.update;
  report.tol.atol = o.atol;
  report.tol.rtol = o.rtol;
  report.tol.count_slack = o.count_slack;
  add_overrides(report.tol.atol_for, o.metric_atol, "--metric-atol");
  add_overrides(report.tol.rtol_for, o.metric_rtol, "--metric-rtol");
  if (o.baseline.empty()) {
    if (rules.empty())
      throw UsageError("nothing to check: give --baseline FILE, or rules (--max-dead-frac, "
                       "--min-grad-factor, --rule, ...)");
    if (o.update) throw UsageError("--update rewrites a baseline: give it with --baseline FILE");
  } else if (o.grid.any_given()) {
    std::string given;
    for (std::size_t k = 0; k < o.grid.names.size(); ++k)
      if (!o.grid.given[k].empty()) given = o.grid.names[k];
    throw UsageError(fmt::format("--{}: with --baseline the networks come from the baseline's config; "
                                 "drop --{} (or check rules without --baseline)",
                                 given, given));
  }

  ReportSink sink(o.output);
  std::unique_ptr<ReportSink> junit = o.junit.empty() ? nullptr : std::make_unique<ReportSink>(o.junit);
  const int workers = worker_count(o.jobs, o.threads);

  std::optional<Baseline> baseline;
  std::vector<AnalysisConfig> configs;
  std::vector<std::string> labels;
  if (!o.baseline.empty()) {
    baseline = load_baseline(o.baseline);
    for (const std::string& act : baseline->config.activations) {
      AnalysisConfig c = baseline->config;
      c.activations = {act};
      c.threads = o.threads;
      configs.push_back(std::move(c));
      labels.push_back(o.baseline);
    }
  } else {
    const Grid grid(o.grid, o.max_runs);
    const std::string whole = o.config_file.empty() ? std::string("command line") : o.config_file;
    for (std::uint64_t i = 0; i < grid.size(); ++i) {
      AnalysisConfig c = grid.config(i);
      c.threads = o.threads;
      configs.push_back(std::move(c));
      const std::string label = grid.label(i, "activation");
      labels.push_back(label.empty() ? whole : label);
    }
  }

  std::vector<RunResult> results = run_all(configs, workers);
  report.runs = results.size();
  std::vector<CheckedRun> checked;
  for (std::size_t k = 0; k < results.size(); ++k) checked.push_back({labels[k], &results[k]});
  for (const Rule& rule : rules) report.outcomes.push_back(evaluate_rule(rule, checked));

  std::unique_ptr<ReportSink> update;
  if (baseline) {
    report.baseline = &*baseline;
    AnalysisResult now{baseline->config, std::move(results)};
    report.groups = compare_baseline(*baseline, now, report.tol, report.not_in_baseline);
    if (o.update) {
      update = std::make_unique<ReportSink>(o.baseline);
      update->write(analysis_json(now));
    }
  }

  sink.write(o.format == "json" ? json_report(report) : table_report(report, o));
  if (junit) junit->write(junit_report(report));
  return report.passed() ? kExitOk : kExitFailure;
}

}  // namespace gf
