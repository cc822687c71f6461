#include "cli/cmd_analyze.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string>
#include <vector>
#include <unistd.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/json_io.h"
#include "base/output.h"
#include "base/seed_list.h"
#include "base/suggest.h"
#include "config/config_file.h"
#include "config/network_options.h"
#include "config/validators.h"
#include "report/plots.h"
#include "report/report_csv.h"
#include "report/report_json.h"
#include "report/report_seeds.h"
#include "report/report_table.h"
#include "report/report_theory.h"
#include "theory/theory_notes.h"

namespace gf {

void add_output_options(CLI::App& cmd, std::string& format, const std::vector<std::string>& formats,
                        std::string& output, ColorMode* color) {
  cmd.add_option("--format", format, "Report format on stdout or in --output")
      ->type_name("FORMAT")
      ->default_str(format)
      ->check(one_of(formats))
      ->group("Output");
  cmd.add_option("-o,--output", output, "Write the report to FILE (atomically) instead of stdout; - is stdout")
      ->type_name("FILE")
      ->default_str("-")
      ->group("Output");
  if (color)
    cmd.add_option("--color", *color, "Colour in tables: auto (only on a terminal, and never with NO_COLOR set)")
        ->type_name("WHEN")
        ->default_str("auto")
        ->transform(enum_choice(color_mode_names()))
        ->group("Output")
        ->configurable(false);
}

CLI::App* setup_analyze(CLI::App& app, AnalyzeOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Build a deep stack of dense layers for each activation, push a random batch through it, "
      "backpropagate, and report layer by layer how the gradient fares: vanishing or exploding, "
      "saturated units, dead ReLUs, zero-centring. This is what `gradflow` alone runs.");
  add_network_options(*cmd, o.config);
  add_model_options(*cmd, o.model);
  // --seed takes a list or range here: several seeds give each metric's mean and standard error.
  cmd->remove_option(cmd->get_option("--seed"));
  cmd->add_option("--seed", o.seeds,
                  "Seed of every random draw (inputs, labels, weights). Several, as a list or range (0:31, "
                  "0:30:10, 1,5,9): every network once per seed, and per activation and layer the mean and "
                  "standard error of every metric, the runs spread over --threads")
      ->delimiter(',')
      ->type_name("N|A:B|LIST")
      ->default_str("0")
      ->group("Initialisation");
  cmd->add_option("--config", o.config_file,
                  std::string("Read options from a JSON file whose keys are the long option names; flags given "
                              "on the command line win; ") + kConfigPathsHelp)
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");
  add_output_options(*cmd, o.format, {"table", "json", "csv"}, o.output, &o.color);
  cmd->add_flag("--all-layers", o.all_layers, "Table: show every layer (past 25 rows are thinned evenly)")
      ->group("Output");
  cmd->add_flag("--theory", o.theory,
                "Put mean-field theory's predictions beside the measurements: variance q_l, gradient profile, "
                "dead units, with a summary of the agreement and notes where the theory does not apply. Covers plain "
                "stacks, residual blocks (each block's stream; Yang & Schoenholz 2017), --norm layer|rms|batch in plain "
                "stacks and --norm layer|rms in residual blocks (Pre-LN and Post-LN, Xiong et al. 2020); not --norm "
                "batch in residual blocks; --dropout in plain stacks without norms (q_l and chi carry 1/(1-p)). With "
                "--model: its architecture at --weights-from init, when it is a plain stack of one activation")
      ->group("Output");
  cmd->add_flag("--per-seed", o.per_seed, "With several --seed: JSON also lists every seed's run")->group("Output");
  cmd->add_option("--plot", o.plot,
                  "Also draw an SVG: weight gradient per layer (one line per activation; dashed: theory, with "
                  "--theory) over a panel of saturated and dead shares")
      ->type_name("FILE.svg")
      ->group("Output");
  cmd->add_option("--plot-spectrum", o.plot_spectrum,
                  "With --jacobian: also draw an SVG of the spectral density of J J^T (histogram of log10 s^2), one "
                  "line per activation; dashed, theory's width -> infinity density for plain stacks of square "
                  "layers (Fuss-Catalan when linear, free probability otherwise)")
      ->type_name("FILE.svg")
      ->group("Output");
  cmd->footer(
      "Examples:\n"
      "  gradflow analyze -a sigmoid,tanh,relu -d 20 -w 256 -b 256\n"
      "  gradflow analyze -a relu --init he_normal --bias-init -0.5 -d 30 --format json -o relu.json\n"
      "  gradflow analyze --config configs/deep-sigmoid.json --depth 60\n"
      "  gradflow analyze -a tanh --sigma-w2 4 -d 10 --format csv\n"
      "  gradflow analyze -a tanh --sigma-w2 1.5 --sigma-b2 0.05 -w 1024 -d 30 --loss random --theory --plot tanh.svg\n"
      "  gradflow analyze --config configs/ci/mlp.json --seed 0:31            # mean +- SE over 32 seeds\n"
      "  gradflow analyze --model mlp.onnx --data batch.csv --label-col y -b 64 --dtype f64\n"
      "`gradflow list` describes every activation and initialisation.");
  return cmd;
}

namespace {

// What analyze reads: no report or plot may replace it.
std::vector<InputFile> analyze_inputs(const AnalyzeOptions& o) {
  std::vector<InputFile> in = input_files(o.config);
  in.push_back({"--config", o.config_file});
  return in;
}

int run_one_seed(const AnalyzeOptions& o);

// Several seeds: every run, then the statistics over them.
int run_analyze_seeds(const AnalyzeOptions& o, const std::vector<std::uint64_t>& seeds) {
  for (const auto& [given, flag] : {std::pair{o.theory, "--theory"}, std::pair{!o.plot.empty(), "--plot"},
                                    std::pair{o.config.jacobian, "--jacobian"},
                                    std::pair{!o.plot_spectrum.empty(), "--plot-spectrum"}})
    if (given)
      throw UsageError(fmt::format("{} shows one network: give one --seed (the statistics over {} seeds are in the "
                                   "table and JSON)",
                                   flag, seeds.size()));
  AnalysisConfig c = o.config;
  validate(c);
  ReportSink sink(o.output);
  refuse_overwriting_inputs(sink.target(), "--output", analyze_inputs(o));
  const bool progress = is_terminal(STDERR_FILENO);
  const SeedAnalysis a = run_seeds(c, seeds, c.thread_count(), [&](std::size_t done, std::size_t n, std::string_view) {
    if (progress) std::fprintf(stderr, "\r\x1b[Kgradflow: %zu/%zu runs", done, n);
  });
  if (progress) std::fprintf(stderr, "\r\x1b[K");
  if (o.format == "json") {
    sink.write(seeds_json(a, o.per_seed));
  } else if (o.format == "csv") {
    sink.write(seeds_csv(a));
  } else {
    TableOptions t;
    t.all_layers = o.all_layers;
    t.style.color = sink.is_stdout() && color_enabled(o.color, STDOUT_FILENO);
    t.style.utf8 = utf8_locale();
    sink.write(seeds_table(a, t));
  }
  return kExitOk;
}

}  // namespace

int run_analyze(const AnalyzeOptions& given) {
  AnalyzeOptions o = given;
  apply_model_options(o.model, o.config);
  if (o.theory && o.config.model) check_theory_for_model(o.config);
  const std::vector<std::uint64_t> seeds = parse_seeds(join(o.seeds, ","));
  if (seeds.size() > 1) return run_analyze_seeds(o, seeds);
  if (o.per_seed) throw UsageError("--per-seed lists the runs of several seeds: give --seed a list or range (0:31)");
  AnalyzeOptions one = o;
  one.config.seed = seeds.front();
  return run_one_seed(one);
}

namespace {

int run_one_seed(const AnalyzeOptions& o) {
  validate(o.config);
  if (o.theory && o.config.norm == NormKind::batch && o.config.residual != 0)
    throw UsageError("--theory: " + residual_batchnorm_refusal(o.config.residual, "drop --theory, or "));
  // An --arch file's ops: what the flags cannot say (per-layer widths, activations, norms or dropout).
  if (o.theory && !o.config.arch_ops.empty())
    throw UsageError(fmt::format("--theory covers the networks the flags describe (one activation, one width, the "
                                 "same norm and dropout at every layer), and --arch {} sets its layers one by one; "
                                 "drop --theory",
                                 o.config.arch));
  // Dropout's mean field (mean_field.h) is verified for plain stacks without norms only. (A
  // --model with norms has no theory at all: check_theory_for_model.)
  if (o.theory && o.config.dropout != 0 && (o.config.residual != 0 || o.config.norm != NormKind::none)) {
    std::vector<std::string> with;
    if (o.config.residual != 0) with.push_back(fmt::format("residual blocks (--residual {})", o.config.residual));
    if (o.config.norm != NormKind::none) with.push_back(fmt::format("a norm (--norm {})", norm_name(o.config.norm)));
    const std::string from = o.config.arch.empty() ? "" : fmt::format(", set by --arch {}", o.config.arch);
    throw UsageError(fmt::format("--theory with dropout {}: the mean field of dropout is modelled in plain stacks "
                                 "without norms only, and this network has {}{}; drop --theory or the dropout",
                                 o.config.dropout, fmt::join(with, " and "), from));
  }
  ReportSink sink(o.output);
  std::optional<ReportSink> plot = open_plot(o.plot, sink);
  if (!o.plot_spectrum.empty() && !o.config.jacobian)
    throw UsageError("--plot-spectrum draws --jacobian's singular values: add --jacobian");
  if (!o.plot_spectrum.empty() && o.config.jacobian_probes != 0)
    throw UsageError(fmt::format("--plot-spectrum draws the singular values of the exact J, and --jacobian-probes {} "
                                 "estimates their mean and spread only: drop one of them",
                                 o.config.jacobian_probes));
  if (!o.plot_spectrum.empty() && o.plot_spectrum == o.plot)
    throw UsageError(fmt::format("--plot and --plot-spectrum are both '{}': give two files", o.plot));
  std::optional<ReportSink> spectrum = open_plot(o.plot_spectrum, sink, "--plot-spectrum");
  refuse_overwriting_inputs(sink.target(), "--output", analyze_inputs(o));
  if (plot) refuse_overwriting_inputs(plot->target(), "--plot", analyze_inputs(o));
  if (spectrum) refuse_overwriting_inputs(spectrum->target(), "--plot-spectrum", analyze_inputs(o));
  // Progress on stderr, only on a terminal; the line is erased before the report is written.
  const bool progress = is_terminal(STDERR_FILENO);
  const AnalysisResult result = run_analysis(o.config, [&](std::size_t i, std::size_t n, std::string_view act) {
    if (progress) std::fprintf(stderr, "\r\x1b[Kgradflow: analysing %.*s (%zu/%zu)", static_cast<int>(act.size()), act.data(), i + 1, n);
  });
  if (progress) std::fprintf(stderr, "\r\x1b[K");
  std::vector<TheoryComparison> theory;
  if (o.theory)
    for (const RunResult& r : result.runs) theory.push_back(compare_with_theory(o.config, r));
  if (plot) plot->write(analyze_plot(result, o.theory ? &theory : nullptr));
  if (spectrum) spectrum->write(spectrum_plot(result));
  if (o.format == "json") {
    if (!o.theory) {
      sink.write(analysis_json(result));
    } else {
      nlohmann::ordered_json doc = analysis_document(result);
      add_theory_json(doc, theory);
      sink.write(dump_json(doc, 2) + "\n");
    }
  } else if (o.format == "csv") {
    const ExtraColumns extra = theory_columns(theory);
    sink.write(analysis_csv(result, o.theory ? &extra : nullptr));
  } else {
    TableOptions t;
    t.all_layers = o.all_layers;
    t.style.color = sink.is_stdout() && color_enabled(o.color, STDOUT_FILENO);
    t.style.utf8 = utf8_locale();
    std::string text = analysis_table(result, t);
    if (o.theory) text += comparison_table(result, theory, t);
    sink.write(text);
  }
  return kExitOk;
}

}  // namespace

}  // namespace gf
