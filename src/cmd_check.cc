#include "cmd_check.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "baseline.h"
#include "check_report.h"
#include "cmd_analyze.h"
#include "cmd_sweep.h"
#include "errors.h"
#include "exit_status.h"
#include "interrupt.h"
#include "output.h"
#include "report_json.h"
#include "rules.h"
#include "run_pool.h"
#include "validators.h"

namespace gf {

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
      ->allow_extra_args(false)
      ->group("Baseline");
  cmd->add_option("--metric-rtol", o.metric_rtol, "Relative tolerance of one metric (repeatable)")
      ->type_name("METRIC=R")
      ->allow_extra_args(false)
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
      ->allow_extra_args(false)
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

}  // namespace

int run_check(const CheckOptions& o) {
  const std::vector<Rule> rules = collect_rules(o);
  CheckReport report;
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
  std::unique_ptr<ReportSink> junit = o.junit.empty() ? nullptr : std::make_unique<ReportSink>(o.junit, "--junit");
  if (junit && same_target(junit->target(), sink.target()))
    throw UsageError(fmt::format("--junit and --output are both '{}': give two files", o.junit));
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
      update = std::make_unique<ReportSink>(o.baseline, "--baseline");
      update->write(analysis_json(now));
    }
  }

  sink.write(o.format == "json" ? check_json(report) : check_table(report, o.max_rows));
  if (junit) junit->write(check_junit(report));
  return report.passed() ? kExitOk : kExitFailure;
}

}  // namespace gf
