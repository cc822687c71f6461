#include "cli/cmd_check.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/file_list.h"
#include "base/interrupt.h"
#include "base/output.h"
#include "base/run_pool.h"
#include "base/suggest.h"
#include "batch/baseline.h"
#include "batch/rules.h"
#include "cli/cmd_analyze.h"
#include "cli/cmd_sweep.h"
#include "config/config_file.h"
#include "config/replaced_options.h"
#include "config/validators.h"
#include "report/check_report.h"
#include "report/report_json.h"

namespace gf {

CLI::App* setup_check(CLI::App& app, CheckOptions& o) {
  std::string rule_help;
  for (const DefaultRule& r : default_rules()) rule_help += fmt::format("\n  {:<33} {}", r.text, r.why);
  CLI::App* cmd = app.add_subcommand(
      "check",
      "A regression gate for CI: exit 1 if anything fails, 0 if all holds. Three ways to use it:\n"
      "  check --baseline B.json                  did gradflow (or the machine) change?\n"
      "      Reruns the analysis recorded in B.json (`analyze --format json`) from its own config,\n"
      "      and compares every summary and per-layer metric within tolerances.\n"
      "  check --baseline B.json --config M.json  did my network change?\n"
      "      Runs the network as M.json (and/or the network options) describe it now, compares its\n"
      "      metrics with B.json's and lists the config keys that changed (init (relu): he_normal ->\n"
      "      xavier_normal). Network options without --config change B.json's own config.\n"
      "  check --config M.json                    is my network healthy?\n"
      "      Runs it (lists and ranges as in sweep; a --model, --data or --arch value naming an existing\n"
      "      file is that file, commas and all) and checks bounds on its metrics: the --rule and\n"
      "      --max-* given, else the default rule set (--rules default; listed under --rule).");
  add_grid_options(*cmd, o.grid);
  cmd->add_option("--config", o.config_file,
                  "The network to check: a JSON file whose keys are the long option names (an analyze "
                  "config works; \"rules\" may list rules); flags given on the command line win. With "
                  "--baseline: compare this network, as it is now, with the recorded one; " + std::string(kConfigPathsHelp))
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");

  cmd->add_option("--baseline", o.baseline,
                  "An `analyze --format json` document to compare with. Alone: rerun its own config (seed, "
                  "dtype and all). With --config or network options: run those instead, and list what changed. "
                  "The paths it records are those of the run that saved it, so a relative one is taken from the "
                  "directory check runs in (its content hash refuses another file)")
      ->type_name("FILE")
      ->group("Baseline");
  cmd->add_option("--save-baseline", o.save_baseline,
                  "Also write this run as a baseline for a later --baseline: the JSON of `analyze --format json`, "
                  "one network (per activation). It records the path and a content hash (FNV-1a 64) of each file "
                  "the network is read from: --model (with the external data files beside it that its initializers "
                  "name), --data and an --arch file; replaying it after any of them changed is refused (exit 2)")
      ->type_name("FILE")
      ->group("Baseline");
  cmd->add_option("--atol", o.atol,
                  "Absolute tolerance: a value holds when |got - expected| <= atol + rtol x |expected| "
                  "(+ the count slack)")
      ->type_name("A")
      ->default_str("1e-4")
      ->transform(real_number(0, 1e300))
      ->group("Baseline");
  cmd->add_option("--rtol", o.rtol, "Relative tolerance")
      ->type_name("R")
      ->default_str("1e-4")
      ->transform(real_number(0, 1e300))
      ->group("Baseline");
  cmd->add_option("--count-slack", o.count_slack,
                  "Fractions of counted things (saturated_frac, dead_units_frac, dw_sign_coherence, "
                  "...) may also differ by this many counts, e.g. 2/(batch x width) for saturated_frac: "
                  "a value on a threshold flips with the last bit of rounding on another machine")
      ->type_name("N")
      ->default_str("2")
      ->transform(real_number(0, 1e300))
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
                "Rewrite the baseline with this run's results, of the current config when one is given "
                "(differences are shown, not failed)")
      ->group("Baseline")
      ->configurable(false);

  cmd->add_option("--rule,--rules", o.rules,
                  "A bound: 'METRIC OP BOUND [layers=A:B] [activation=NAME]', OP one of < <= > >=, "
                  "e.g. 'grad_weight_rel_log10 >= -2 layers=2:'; summary metrics are checked once "
                  "per run, per-layer metrics on each layer; with --jacobian its jac_ figures once per run, "
                  "and jac_<figure>_from_<l> those of the partial d a_L / d a_l of --jacobian-depths, e.g. "
                  "'jac_s2_var_rel_from_16 <= 10' (repeatable; in a config file: \"rules\", "
                  "a list of such strings or of {\"metric\", \"op\", \"bound\", \"layers\", \"activation\"}). "
                  "'default' is the default rule set, which a bare `check --config F` applies:" + rule_help)
      ->type_name("RULE")
      ->allow_extra_args(false)
      ->group("Rules");
  cmd->add_option("--max-dead-frac", o.max_dead_frac,
                  "Rule: no layer has a larger share of dead units (dead_units_frac <= F on every layer)")
      ->type_name("F")
      ->transform(real_number(0, 1))
      ->group("Rules");
  cmd->add_option("--max-saturated-frac", o.max_saturated_frac,
                  "Rule: saturated_frac <= F on every layer. It counts every unit-sample whose slope "
                  "is below sat-eps x the maximum, relu's x < 0 included: gate relu-like runs with "
                  "--max-dead-frac, or scope this with --rule '... activation=tanh'")
      ->type_name("F")
      ->transform(real_number(0, 1))
      ->group("Rules");
  cmd->add_option("--min-grad-factor", o.min_grad_factor,
                  "Rule: grad_factor_per_layer >= R (the gradient shrinks by at most this factor per "
                  "layer, going down)")
      ->type_name("R")
      ->transform(real_number(0, 1e300))
      ->group("Rules");
  cmd->add_option("--max-grad-factor", o.max_grad_factor, "Rule: grad_factor_per_layer <= R")
      ->type_name("R")
      ->transform(real_number(0, 1e300))
      ->group("Rules");
  cmd->add_option("--max-act-offset", o.max_act_offset,
                  "Rule: act_offset_mean <= F (activations zero-centred enough)")
      ->type_name("F")
      ->transform(real_number(0, 1))
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
      "  gradflow check --baseline tests/baselines/mlp.json --config configs/ci/mlp.json --rules default  # in CI\n"
      "  gradflow check --baseline tests/baselines/mlp.json              # did gradflow itself change?\n"
      "  gradflow check --config configs/ci/mlp.json --junit report.xml   # the default rules\n"
      "  gradflow check -a relu,tanh -d 10:30:10 --rule 'grad_first_last_log10 >= -1' --rule 'dead_units_frac <= 0.1 layers=1:'\n"
      "  gradflow check --model classifier.onnx --data val.csv --label-col y --rules default --junit gate.xml\n"
      "  gradflow check --model classifier.onnx --data val.csv --rules default --save-baseline gate.json  # record once\n"
      "  gradflow check --baseline gate.json         # the same model and data, the same numbers? (exit 2 if a file changed)\n"
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
  for (std::size_t k = 0; k < o.rules.size(); ++k) {
    if (o.rules[k] == kDefaultRuleSet) {
      for (const DefaultRule& r : default_rules()) rules.push_back(parse_rule(r.text, "--rules default"));
      continue;
    }
    rules.push_back(parse_rule(o.rules[k], o.rules.size() == 1 ? "--rule" : fmt::format("--rule #{}", k + 1)));
  }
  return rules;
}

// A baseline config value as the items of its grid option: lists element by element, a width
// repeated on every layer as one number, n_0 only when it is not the first width.
std::vector<std::string> grid_items(const std::string& name, const nlohmann::ordered_json& v,
                                    const nlohmann::ordered_json& config) {
  auto text = [](const nlohmann::ordered_json& x) { return x.is_string() ? x.get<std::string>() : x.dump(); };
  if (v.is_null()) return {};
  if (axis_kind(name) == AxisKind::file && v.is_string()) return {join_file_list({v.get<std::string>()})};  // one file
  if (name == "input-dim" && config["width"].is_array() && !config["width"].empty() && v == config["width"][0])
    return {};
  if (!v.is_array()) return {text(v)};
  if (name == "width") {
    if (std::all_of(v.begin(), v.end(), [&](const auto& x) { return x == v.front(); })) return {text(v.front())};
    return {v.dump()};  // [64,32,16]: one per-layer value
  }
  if (name == "jacobian-depths") return {v.dump()};  // [0,3]: one list, not an axis of two runs
  std::vector<std::string> items;
  for (const auto& x : v) items.push_back(text(x));
  return items;
}

// A baseline holds one network per activation, as analyze records it: the grid's activations in
// one config, every other option with one value (`flag`: the option that needs that).
AnalysisConfig one_network_per_activation(const Grid& grid, const char* flag) {
  std::vector<std::string> activations;
  for (const Axis& a : grid.axes()) {
    if (a.name == "activation") activations = a.values;
    else if (a.values.size() > 1)
      throw UsageError(fmt::format("--{}: with {} give one value, not {} ('{}'): a baseline holds one network per "
                                   "activation",
                                   a.name, flag, a.values.size(), join(a.values, ",")));
  }
  AnalysisConfig c = grid.config(0);
  if (!activations.empty()) c.activations = activations;  // --model: its own, no axis
  return c;
}

// Compare mode: the network as it is now. With --config, the file (and flags) alone, as analyze
// would run it; with flags only, the baseline's own config with the flags on top. One network
// per activation: every other option takes one value.
AnalysisConfig current_config(const CheckOptions& o, const Baseline& b) {
  GridOptions g = o.grid;
  if (o.config_file.empty()) {
    // Options that set one thing together: a new weight scale or bias replaces the recorded one
    // whole, so that --init he_normal never meets the baseline's --sigma-w2.
    const std::vector<std::vector<std::string>> together = {{"init", "sigma-w2", "weight-std", "gain"},
                                                             {"bias-init", "sigma-b2"}};
    auto given = [&](const std::string& name) { return g.was_given(name); };
    const nlohmann::ordered_json recorded = config_json(b.config);
    // An --arch file is the whole network: the recorded depth, widths, activations, ... recorded
    // beside it describe it, they do not build it. A given file replaces them, and so does the
    // recorded one unless flags it replaces are given (then they build the network, without it).
    const std::vector<std::string> arch_replaces = arch_replaced_options();
    const bool flags_build_stack = std::any_of(arch_replaces.begin(), arch_replaces.end(), given);
    const bool arch_builds = given("arch") || (recorded.contains("arch") && !flags_build_stack);
    auto replaced = [&](const std::string& name) {
      if (arch_builds && replaced_by_arch(name)) return true;
      if (flags_build_stack && name == "arch") return true;
      for (const auto& group : together)
        if (std::find(group.begin(), group.end(), name) != group.end())
          return std::any_of(group.begin(), group.end(), given);
      return false;
    };
    // --model replaces the flags that build a network, and they replace a recorded model: the
    // depth, widths, ... recorded beside a model describe it, they do not build it.
    const std::vector<std::string> model_replaces = model_replaced_options();
    const bool flags_build = std::any_of(model_replaces.begin(), model_replaces.end(), given);
    const bool model_builds = given("model") || (recorded.contains("model") && !flags_build);
    auto model_option = [](const std::string& name) {
      return name == "model" || name == "weights-from" || name == "bn-mode" || name == "data" || name == "label-col";
    };
    for (std::size_t k = 0; k < g.names.size(); ++k) {
      const std::string& name = g.names[k];
      if ((model_builds && replaced_by_model(name)) || (flags_build && model_option(name))) continue;
      if (g.given[k].empty() && recorded.contains(name) && !replaced(name))
        g.given[k] = grid_items(name, recorded[name], recorded);
    }
  }
  return one_network_per_activation(Grid(g, o.max_runs), "--baseline");
}

}  // namespace

int run_check(const CheckOptions& o) {
  const bool network_given = !o.config_file.empty() || o.grid.any_given();
  std::vector<Rule> rules = collect_rules(o);
  if (o.baseline.empty() && rules.empty() && network_given)
    for (const DefaultRule& r : default_rules()) rules.push_back(parse_rule(r.text, "default rules"));
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
      throw UsageError("nothing to check: give --baseline FILE (rerun a recorded analysis), the network with "
                       "--config FILE or network options (checked against the default rules), or rules "
                       "(--rule, --max-dead-frac, ...)");
    if (o.update) throw UsageError("--update rewrites a baseline: give it with --baseline FILE");
  } else if (!o.save_baseline.empty()) {
    throw UsageError(fmt::format("--save-baseline {}: with --baseline {}, --update rewrites the baseline instead",
                                 o.save_baseline, o.baseline));
  }

  ReportSink sink(o.output);
  std::unique_ptr<ReportSink> junit = o.junit.empty() ? nullptr : std::make_unique<ReportSink>(o.junit, "--junit");
  if (junit && same_target(junit->target(), sink.target()))
    throw UsageError(fmt::format("--junit and --output are both '{}': give two files", o.junit));
  std::unique_ptr<ReportSink> save =
      o.save_baseline.empty() ? nullptr : std::make_unique<ReportSink>(o.save_baseline, "--save-baseline");
  if (save && (same_target(save->target(), sink.target()) || (junit && same_target(save->target(), junit->target()))))
    throw UsageError(fmt::format("--save-baseline {}: also given to --output or --junit; give another file",
                                 o.save_baseline));
  AnalysisConfig saved;  // --save-baseline: the one network (per activation) of the grid
  const int workers = worker_count(o.jobs, o.threads);

  std::optional<Baseline> baseline;
  std::vector<AnalysisConfig> configs;
  std::vector<std::string> labels;
  AnalysisConfig now;
  if (!o.baseline.empty()) {
    baseline = load_baseline(o.baseline, o.grid.files);  // its files, as checked, for the current config too
    now = network_given ? current_config(o, *baseline) : baseline->config;
    report.current = network_given ? (o.config_file.empty() ? std::string("command line") : o.config_file) : "";
    report.changes = config_changes(baseline->config, now);
    for (const std::string& act : now.activations) {
      AnalysisConfig c = now;
      c.activations = {act};
      c.threads = o.threads;
      configs.push_back(std::move(c));
      labels.push_back(network_given ? report.current : o.baseline);
    }
  } else {
    const Grid grid(o.grid, o.max_runs);
    const std::string whole = o.config_file.empty() ? std::string("command line") : o.config_file;
    if (save) saved = one_network_per_activation(grid, "--save-baseline");
    for (std::uint64_t i = 0; i < grid.size(); ++i) {
      AnalysisConfig c = grid.config(i);
      c.threads = o.threads;
      const std::string label = grid.label(i, "activation");
      // A model run is named by its file, unless a config file says which run this is.
      labels.push_back(!label.empty() ? label : c.model && o.config_file.empty() ? c.model_path : whole);
      configs.push_back(std::move(c));
    }
  }

  // No report may replace what the check reads (the baseline only through --update, on purpose).
  std::vector<InputFile> inputs = {{"--config", o.config_file}, {"--baseline", o.baseline}};
  for (const AnalysisConfig& c : configs)
    for (InputFile& in : input_files(c)) inputs.push_back(std::move(in));
  refuse_overwriting_inputs(sink.target(), "--output", inputs);
  if (junit) refuse_overwriting_inputs(junit->target(), "--junit", inputs);
  if (save) refuse_overwriting_inputs(save->target(), "--save-baseline", inputs);

  std::vector<RunResult> results = run_all(configs, workers);
  report.runs = results.size();
  std::vector<CheckedRun> checked;
  for (std::size_t k = 0; k < results.size(); ++k) checked.push_back({labels[k], &results[k]});
  for (const Rule& rule : rules) report.outcomes.push_back(evaluate_rule(rule, checked));

  std::unique_ptr<ReportSink> update;
  // What each run's init resolved to ("auto" hides he_normal), in both modes: a rerun of the
  // baseline's own config draws differently when this gradflow resolves the same --init
  // otherwise (--init auto on a mixed --model: one scheme then, one per layer now), and then the
  // metrics cannot match however the config reads.
  if (baseline) {
    const nlohmann::ordered_json& runs = baseline->doc["runs"];
    for (std::size_t k = 0; k < runs.size(); ++k)
      for (const RunResult& r : results)
        if (r.activation == baseline->config.activations[k] && runs[k].value("init", "") != r.init)
          report.changes.push_back({fmt::format("init ({})", r.activation), runs[k].value("init", ""), r.init});
    // Said once: the resolved init per run says more than the option ("auto -> xavier_normal").
    const auto per_run = [](const ConfigChange& c) { return c.key.rfind("init (", 0) == 0; };
    if (std::any_of(report.changes.begin(), report.changes.end(), per_run))
      std::erase_if(report.changes, [](const ConfigChange& c) { return c.key == "init"; });
  }
  if (baseline) {
    report.baseline = &*baseline;
    AnalysisResult result{now, std::move(results)};
    report.groups = compare_baseline(*baseline, result, report.tol, report.not_in_baseline, report.runs_not_in_baseline);
    if (o.update) {
      update = std::make_unique<ReportSink>(o.baseline, "--baseline");
      update->write(analysis_json(result));
    }
  }

  if (save) save->write(analysis_json(AnalysisResult{saved, results}));
  sink.write(o.format == "json" ? check_json(report) : check_table(report, o.max_rows));
  if (junit) junit->write(check_junit(report));
  return report.passed() ? kExitOk : kExitFailure;
}

}  // namespace gf
