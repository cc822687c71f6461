#include "cli/cmd_train.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <limits>
#include <mutex>
#include <optional>
#include <unistd.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/output.h"
#include "base/seed_list.h"
#include "base/suggest.h"
#include "cli/cmd_analyze.h"
#include "config/config_file.h"
#include "config/network_options.h"
#include "config/validators.h"
#include "core/summary.h"
#include "report/plots.h"
#include "report/train_report_json.h"
#include "report/train_report_table.h"
#include "report/train_trace.h"
#include "train/dataset_builtin.h"
#include "train/train.h"

namespace gf {

TrainOptions::TrainOptions() {
  config.net.depth = 4;
  config.net.width = {64};
  config.net.batch = 64;
  config.net.classes = 3;
}

namespace {

// The shared network flags, reworded where training gives them another meaning, and without
// those that only `analyze` uses.
void adapt_network_options(CLI::App& cmd) {
  for (const char* name : {"--seed", "--weights", "--jacobian", "--jacobian-samples", "--jacobian-depths", "--jacobian-probes"})
    cmd.remove_option(cmd.get_option(name));
  for (const ThresholdFlag& f : threshold_flags())
    if (!f.in_train) cmd.remove_option(cmd.get_option("--" + std::string(f.name)));
  cmd.get_option("--width")->default_str("64");
  cmd.get_option("--batch")->description("Mini-batch size: samples per training step");
  cmd.get_option("--classes")
      ->description("Classes of a built-in dataset (a CSV file's classes come from its label column)");
  cmd.get_option("--input-dim")
      ->description("Features of the blobs and teacher datasets (spirals have 2; a CSV file has its feature columns)")
      ->default_str("2 for blobs, 10 for teacher");
  cmd.get_option("--input")
      ->description("How features reach the network: normal (as generated or read; see --standardize), uniform "
                    "(each feature scaled to [-1,1]), positive (each feature scaled to [0,1]: all-positive "
                    "inputs, for the zig-zag question); scales come from the training set");
  cmd.get_option("--loss")->description("Loss on the head: xent (softmax cross-entropy) or mse (squared error to "
                                        "one-hot targets); random cannot be trained");
  cmd.get_option("--saturated-above")
      ->description("Say so when the top hidden layer's saturated_frac peaks above this")
      ->group("Sentences");
  cmd.get_option("--dead-above")
      ->description("Say so when a layer's dead_units_frac rises by more than this during training")
      ->group("Sentences");
}

std::string data_help() {
  std::string h = "A built-in dataset, or a CSV file (header line, numeric features, a label column):";
  for (const BuiltinData& b : builtin_datasets()) h += fmt::format("\n  {:<8} {}", b.name, b.description);
  return h;
}

std::vector<std::string> given_options(const CLI::App& cmd) {
  std::vector<std::string> given;
  for (const CLI::Option* opt : cmd.get_options())
    if (opt->count() > 0 && !opt->get_lnames().empty()) given.push_back(opt->get_lnames().front());
  return given;
}

// Progress and warnings on stderr, and the trace, from the worker threads.
class CliObserver : public TrainObserver {
 public:
  CliObserver(const TrainConfig& c, TraceWriter* trace, bool progress)
      : c_(c), trace_(trace), progress_(progress), runs_(c.seeds.size() * c.net.activations.size()) {}

  void on_log(const TrainRun& run, const LogRecord& r) override {
    if (trace_) trace_->write_line(trace_line(run, r, c_.learning_rates().size() > 1));
    if (!progress_) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const std::string error = std::isfinite(r.train_error) ? fmt::format("{:.1f}%", 100 * r.train_error) : "-";
    std::fprintf(stderr, "\r\x1b[Ktraining: %zu/%zu runs done; %s at step %lld/%lld, train error %s", done_, runs_,
                 run.label(c_.seeds.size() > 1).c_str(), static_cast<long long>(r.step),
                 static_cast<long long>(c_.steps), error.c_str());
    std::fflush(stderr);
  }

  void on_end(const TrainRun& run) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    if (run.end != RunEnd::diverged) return;
    clear_line();
    std::fprintf(stderr, "gradflow: warning: %s\n", divergence_message(run, c_, c_.seeds.size() > 1).c_str());
  }

  void finish() {
    const std::lock_guard<std::mutex> lock(mutex_);
    clear_line();
  }

 private:
  void clear_line() {
    if (progress_) std::fprintf(stderr, "\r\x1b[K");
  }

  const TrainConfig& c_;
  TraceWriter* trace_;
  bool progress_;
  std::size_t runs_, done_ = 0;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
};

// Flags of one optimiser given with another: almost certainly a mistake.
void check_optimizer_flags(const TrainConfig& c) {
  const OptimizerKind k = c.optimizer.kind;
  if (k != OptimizerKind::momentum && c.was_given("momentum"))
    throw UsageError(fmt::format("--momentum applies to --optimizer momentum, not {}", optimizer_name(k)));
  for (const char* flag : {"beta1", "beta2", "adam-eps"})
    if (k != OptimizerKind::adam && c.was_given(flag))
      throw UsageError(fmt::format("--{} applies to --optimizer adam, not {}", flag, optimizer_name(k)));
}

}  // namespace

CLI::App* setup_train(CLI::App& app, TrainOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train the same dense network with each activation (and each --seed) side by side, on identical data, "
      "mini-batch order and initial draws, and record every --log-every steps how the gradient flows, how big "
      "the updates are, which units saturate or die: then compare steps to a target training error.");
  o.command = cmd;
  TrainConfig& c = o.config;
  add_network_options(*cmd, c.net);
  adapt_network_options(*cmd);
  cmd->add_option("--seed", o.seeds,
                  "Seeds of the weights and the mini-batch order: N, a range A:B (both included) or a list N,M; "
                  "each seed trains every activation, and the report gives the spread over seeds")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            try {
              parse_seeds(value);
              return "";
            } catch (const UsageError& e) {
              return std::string(e.what()).substr(std::string_view("--seed: ").size());
            }
          },
          ""))
      ->type_name("SEEDS")
      ->default_str("0")
      ->group("Initialisation");

  cmd->add_option("--data", c.data.data, data_help())->type_name("NAME|FILE")->default_str("spirals")->group("Data");
  cmd->add_option("--n-train", c.data.n_train, "Training samples of a built-in dataset")
      ->type_name("N")
      ->default_str(std::to_string(c.data.n_train))
      ->check(whole_number(1, 10'000'000))
      ->group("Data");
  cmd->add_option("--n-test", c.data.n_test, "Held-out test samples of a built-in dataset (0: none)")
      ->type_name("N")
      ->default_str(std::to_string(c.data.n_test))
      ->check(whole_number(0, 10'000'000))
      ->group("Data");
  std::string noise_help = "Noise of a built-in dataset:";
  for (const BuiltinData& b : builtin_datasets())
    if (b.name != "teacher") noise_help += fmt::format(" {}: {} (default {:g});", b.name, b.noise_meaning, b.default_noise);
  noise_help.pop_back();
  cmd->add_option("--noise", c.data.noise, noise_help)->type_name("S")->transform(real_number(0, kInf))->group("Data");
  cmd->add_option("--teacher-depth", c.data.teacher_depth,
                  fmt::format("Hidden layers of the teacher network (width {}, tanh)", kTeacherWidth))
      ->type_name("D")
      ->default_str(std::to_string(c.data.teacher_depth))
      ->check(whole_number(0, 100))
      ->group("Data");
  cmd->add_option("--label-col", c.data.label_col,
                  "CSV: the label column, by header name or number (1 = first, -1 = last)")
      ->type_name("COL")
      ->default_str("-1")
      ->group("Data");
  cmd->add_option("--test-frac", c.data.test_frac, "CSV: share of rows held out as the test set, chosen at random")
      ->type_name("F")
      ->default_str("0.2")
      ->transform(real_number(0, 1, false, true))
      ->group("Data");
  cmd->add_flag("--standardize", c.data.standardize,
                "Scale each feature to mean 0 and std 1 (statistics of the training set)")
      ->group("Data");
  cmd->add_option("--data-seed", c.data.seed,
                  "Seed of the built-in dataset's draws and of the CSV split; --seed leaves the data alone")
      ->type_name("N")
      ->default_str("0")
      ->check(whole_number(0, std::numeric_limits<long long>::max()))
      ->group("Data");

  OptimizerConfig& opt = c.optimizer;
  cmd->add_option("--steps", c.steps, "Training steps (mini-batch updates) per run")
      ->type_name("N")
      ->default_str(std::to_string(c.steps))
      ->check(whole_number(1, 1'000'000'000))
      ->group("Training");
  cmd->add_option("--optimizer", opt.kind,
                  "Update rule: sgd (W -= lr g), momentum (v = mu v + g; W -= lr v), adam (Kingma & Ba 2015). "
                  "Unset, --momentum picks momentum and --beta1, --beta2 or --adam-eps pick adam")
      ->type_name("NAME")
      ->default_str("sgd")
      ->transform(enum_choice(optimizer_kind_names()))
      ->group("Training");
  cmd->add_option("--lr", c.lrs,
                  "Learning rate, or several (0.003,0.01,0.03): each activation trains at each rate, and the report "
                  "adds each activation at its own best rate (the fairest speed-up)")
      ->delimiter(',')
      ->type_name("R[,R...]")
      ->default_str("0.05 (adam: 0.001)")
      ->transform(real_number(0, kInf, true))
      ->group("Training");
  cmd->add_option("--speedup-vs", c.speedup_vs,
                  "Speed-ups are this activation's steps to target (same seed and learning rate) over each run's")
      ->type_name("ACT")
      ->default_str("tanh if trained, else the first activation")
      ->group("Training");
  cmd->add_option("--momentum", opt.momentum, "Momentum mu of --optimizer momentum (and its choice when --optimizer is unset)")
      ->type_name("MU")
      ->default_str("0.9")
      ->transform(real_number(0, 1, false, true))
      ->group("Training");
  cmd->add_option("--beta1", opt.beta1, "Adam: decay of the first-moment estimate")
      ->type_name("B")
      ->default_str("0.9")
      ->transform(real_number(0, 1, false, true))
      ->group("Training");
  cmd->add_option("--beta2", opt.beta2, "Adam: decay of the second-moment estimate")
      ->type_name("B")
      ->default_str("0.999")
      ->transform(real_number(0, 1, false, true))
      ->group("Training");
  cmd->add_option("--adam-eps", opt.eps, "Adam: added to the root of the second moment")
      ->type_name("E")
      ->default_str("1e-08")
      ->transform(real_number(0, kInf, true))
      ->group("Training");
  cmd->add_option("--weight-decay", opt.weight_decay, "L2 penalty: adds this x W to every weight's gradient (not biases)")
      ->type_name("WD")
      ->default_str("0")
      ->transform(real_number(0, kInf))
      ->group("Training");
  cmd->add_option("--target-error", c.target_error,
                  "Training error (on the evaluation batch) whose first step at or below it is the run's steps-to-target")
      ->type_name("F")
      ->default_str("0.25")
      ->transform(real_number(0, 1))
      ->group("Training");
  cmd->add_option("--target-every", c.target_every,
                  "Check the target every N steps; by default every step up to 100, then every step/100 steps, so "
                  "steps-to-target is at most 1% late (1: every step, exact). A check that finds the target replays "
                  "the steps since the previous one to find the first step at or below it; --log-every plays no part")
      ->type_name("N")
      ->default_str("step/100")
      ->check(whole_number(1, 1'000'000'000))
      ->group("Training");
  cmd->add_flag("--stop-at-target", c.stop_at_target, "End each run at the check that finds --target-error reached")
      ->group("Training");
  cmd->add_option("--eval-batch", c.eval_batch,
                  "Size of the fixed evaluation batch (the first training samples) that gives the training error "
                  "and the per-layer statistics; also the chunk size of the test-set pass")
      ->type_name("N")
      ->default_str(std::to_string(c.eval_batch))
      ->check(whole_number(1, 1 << 24))
      ->group("Training");

  cmd->add_option("--config", o.config_file,
                  std::string("Read options from a JSON file whose keys are the long option names (see configs/); "
                              "flags given on the command line win; ") + kConfigPathsHelp)
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");
  cmd->add_option("--log-every", c.log_every,
                  "Record every N steps (and the last); steps-to-target does not depend on it (--target-every)")
      ->type_name("N")
      ->default_str("steps/50")
      ->check(whole_number(1, 1'000'000'000))
      ->group("Output");
  cmd->add_option("--trace", o.trace,
                  "Write every log record as a JSON line to FILE as training goes (one line per run and log step)")
      ->type_name("FILE")
      ->group("Output");
  cmd->add_option("--plot", o.plot,
                  "Also draw an SVG: loss and training error against steps (one line per run), and the top "
                  "hidden layer's saturated share with the dead share of all hidden units")
      ->type_name("FILE.svg")
      ->group("Output");
  add_output_options(*cmd, o.format, {"table", "json"}, o.output, &o.color);
  cmd->add_flag("--timings", o.timings,
                "JSON: include wall-clock seconds (the document then differs from run to run)")
      ->group("Output");
  cmd->footer(
      "Examples:\n"
      "  gradflow train -a tanh,relu -d 6 -w 256 --data spirals --steps 3000 --lr 0.05 --momentum 0.9\n"
      "  gradflow train --config configs/relu-vs-tanh.json --seed 0:4\n"
      "  gradflow train -a relu --lr 0.5 --data blobs --trace trace.jsonl        # watch units die\n"
      "  gradflow train --config configs/sigmoid-saturation.json --plot saturation.svg\n"
      "  gradflow train --data my.csv --label-col species -a gelu,relu --optimizer adam\n"
      "  gradflow train --config configs/relu-vs-tanh.json --lr 0.003,0.01,0.03,0.1 --seed 0:2   # each at its best rate\n"
      "Presets: configs/relu-vs-tanh.json, dying-relu.json, sigmoid-saturation.json, zig-zag.json.\n"
      "A run whose loss overflows stops with a message; the others go on. Ctrl-C stops every run\n"
      "cleanly, keeps the trace whole and reports the steps so far (exit 130).");
  return cmd;
}

int run_train(const TrainOptions& o) {
  TrainConfig c = o.config;
  c.seeds = parse_seeds(o.seeds);
  if (o.command) c.given = given_options(*o.command);
  // An optimiser's own flag picks it when --optimizer is not given: `--momentum 0.9` means momentum.
  if (!c.was_given("optimizer")) {
    if (c.was_given("momentum")) c.optimizer.kind = OptimizerKind::momentum;
    else if (c.was_given("beta1") || c.was_given("beta2") || c.was_given("adam-eps")) c.optimizer.kind = OptimizerKind::adam;
  }
  if (c.optimizer.kind == OptimizerKind::adam && !c.was_given("lr")) c.optimizer.lr = 0.001;
  if (c.lrs.size() == 1) c.optimizer.lr = c.lrs.front();
  check_optimizer_flags(c);
  ReportSink sink(o.output);
  std::optional<ReportSink> plot = open_plot(o.plot, sink);
  std::optional<OutputTarget> trace_target;
  if (!o.trace.empty()) {
    trace_target = resolve_output(o.trace, "--trace");
    for (const auto& [flag, other] : {std::pair{"--output", &sink}, {"--plot", plot ? &*plot : nullptr}})
      if (other && same_target(*trace_target, other->target()))
        throw UsageError(fmt::format("--trace and {} are both '{}': give two files", flag, o.trace));
  }
  const Dataset data = load_dataset(c);
  validate(c, data);
  std::optional<TraceWriter> trace;
  if (trace_target) trace.emplace(*trace_target);
  CliObserver observer(c, trace ? &*trace : nullptr, is_terminal(STDERR_FILENO));
  const TrainResult result = run_training(c, data, &observer);
  observer.finish();
  if (trace) trace->close();

  if (o.format == "json") {
    sink.write(train_json(result, o.timings));
  } else {
    Style style;
    style.color = sink.is_stdout() && color_enabled(o.color, STDOUT_FILENO);
    style.utf8 = utf8_locale();
    sink.write(train_table(result, style));
  }
  if (plot) plot->write(train_plot(result));
  if (result.interrupted) {
    std::fprintf(stderr, "gradflow: interrupted: the report covers the steps taken so far\n");
    return kExitInterrupted;
  }
  return kExitOk;
}

}  // namespace gf
