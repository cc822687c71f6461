#include "cli/cmd_sweep.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>
#include <unistd.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/interrupt.h"
#include "base/output.h"
#include "base/run_pool.h"
#include "base/terminal.h"
#include "base/utf8.h"
#include "batch/estimate.h"
#include "batch/progress.h"
#include "batch/record_file.h"
#include "batch/run_record.h"
#include "config/config_file.h"
#include "config/validators.h"

namespace gf {

int worker_count(int jobs, int threads) {
  if (jobs > 0) return jobs;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, threads));
}

CLI::App* setup_sweep(CLI::App& app, SweepOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run `analyze` over a grid of settings: every network option takes a list (a,b,c) or an "
      "inclusive range (start:stop:step), and each combination is one run, written as one "
      "record (JSONL or CSV) in grid order as soon as it and every earlier run are done.");
  add_grid_options(*cmd, o.grid);
  cmd->add_option("--config", o.config_file,
                  "Read options from a JSON file whose keys are the long option names; a value may "
                  "be a list, or a range as a string (\"depth\": \"5:50:5\"); flags win; " + std::string(kConfigPathsHelp))
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");

  cmd->add_option("-j,--jobs", o.jobs, "Runs at once, each on its own worker thread")
      ->type_name("N")
      ->default_str("cores / --threads")
      ->check(whole_number(1, 4096))
      ->group("Sweep");
  cmd->add_option("--threads", o.threads,
                  "Threads inside each run; -j x --threads should not exceed the cores. Results "
                  "are identical for any -j and --threads")
      ->type_name("T")
      ->default_str("1")
      ->check(whole_number(1, 4096))
      ->group("Sweep");
  cmd->add_option("--shard", o.shard,
                  "Run only the K-th of N interleaved slices of the grid (runs K, K+N, K+2N, ...); "
                  "the N shards together hold exactly the records of the whole sweep")
      ->type_name("K/N")
      ->default_str("1/1")
      ->check(shard_spec())
      ->group("Sweep");
  cmd->add_option("--max-runs", o.max_runs, "Refuse a grid with more runs than this")
      ->type_name("N")
      ->default_str("100000")
      ->check(whole_number(1, 1LL << 40))
      ->group("Sweep");
  cmd->add_flag("--dry-run", o.dry_run,
                "Print the runs (number, run_id, every axis value) in grid order on stdout, and run "
                "nothing")
      ->group("Sweep");

  cmd->add_option("--format", o.format, "Record format: jsonl (one JSON object a line) or csv")
      ->type_name("FORMAT")
      ->default_str("jsonl")
      ->check(one_of({"jsonl", "csv"}))
      ->group("Output");
  cmd->add_option("-o,--output", o.output,
                  "Append records to FILE, each flushed as soon as it is complete; - is stdout")
      ->type_name("FILE")
      ->default_str("-")
      ->group("Output");
  cmd->add_flag("--layers", o.layers, "Add every layer's metrics to each record (CSV: a row per layer)")
      ->group("Output");
  cmd->add_flag("--resume", o.resume,
                "Finish the sweep in --output: keep its records (a torn last line is dropped), run "
                "only the missing runs, append them")
      ->group("Output");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing --output file")->group("Output");
  cmd->add_flag("-q,--quiet", o.quiet, "No plan, progress bar or closing line on stderr")
      ->group("Output")
      ->configurable(false);

  cmd->footer(
      "The grid is the product of the options' values, in the order of this help (activation,\n"
      "depth, width, input-dim, batch, classes, input, loss, leaky-slope, init, sigma-w2,\n"
      "weight-std, bias-init, sigma-b2, seed, sat-eps, dtype, thresholds), the last varying\n"
      "fastest: -a tanh,relu -d 5:10:5 --seed 0:1 runs tanh/5/0, tanh/5/1, tanh/10/0, tanh/10/1,\n"
      "relu/5/0, ... --dry-run lists them. Ranges are inclusive (start:stop, step 1, or\n"
      "start:stop:step); depth, width, input-dim, batch, classes and seed take whole numbers. Per-layer\n"
      "widths are one value in brackets: -w '[64,32,16]'. A value starting with '-' needs '=':\n"
      "--bias-init=-0.5:0.5:0.25.\n"
      "Files (--model, --data, --arch) take a file or a list of files, never a range or brackets: a\n"
      "value that names an existing file is that file, commas, colons and brackets in its name\n"
      "included; otherwise commas separate files, and a name's own comma is written twice\n"
      "(--model my,,model.onnx,b.onnx). A value that is both a file and a list of files is refused.\n"
      "Cores: -j workers each run one network at a time with --threads threads (default 1). Many\n"
      "small runs: keep --threads 1 and let -j use the cores. A few very wide runs: e.g. -j 2\n"
      "--threads 8 on 16 cores.\n"
      "Each record has a run_id: the FNV-1a 64-bit hash of its resolved config (see README), the\n"
      "same in every sweep, shard and machine. Records come in grid order, identical for any -j.\n"
      "Interrupted (Ctrl-C, SIGTERM, or killed): rerun the same command with --resume.\n"
      "Examples:\n"
      "  gradflow sweep -a sigmoid,tanh,relu -d 5:50:5 --init xavier_normal,he_normal --seed 0:9 -o runs.jsonl\n"
      "  gradflow sweep -a tanh --sigma-w2 0.5:4:0.25 --sigma-b2 0,0.05 -d 50 --seed 0:4 --format csv\n"
      "  gradflow sweep --config configs/sweeps/phase-tanh.json --shard 3/8 -o shard3.jsonl\n"
      "  gradflow sweep --model classifier.onnx --data val.csv,test.csv --label-col y --format csv\n"
      "  gradflow sweep --model classifier.onnx --weights-from init --init he_normal,xavier_normal --seed 0:4\n"
      "  gradflow summarize runs.jsonl --pivot depth,activation");
  return cmd;
}

namespace {

std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_./:=,+-@%") == std::string::npos)
    return arg;
  std::string q = "'";
  for (const char ch : arg) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// The command line of this process with --resume in place of --overwrite, to print on an
// interrupt. Linux: /proc/self/cmdline.
std::string resume_command() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string a; std::getline(in, a, '\0');) args.push_back(a);
  if (args.empty()) return "the same command with --resume";
  std::string cmd;
  bool has_resume = false;
  for (const std::string& a : args) {
    if (a == "--overwrite") continue;
    has_resume = has_resume || a == "--resume";
    cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
  }
  return has_resume ? cmd : cmd + " --resume";
}

// printable keeps a line break the text has on purpose (the resume command on its own line);
// the names it quotes are escaped by the caller (printable_line), so theirs cannot.
void say(const char* prefix, const std::string& text) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s%s\n", prefix, printable(text).c_str());
}

// The runs of this shard, resolved and checked before the first one starts, but not kept: a
// run's config is resolved again when it runs (Grid::config is cheap walked in order), so the
// plan holds 8 bytes a run (16 while duplicates are sought) however large the grid; before, it
// held every resolved config, about 650 bytes a run. The estimate is gathered on the way.
struct Plan {
  std::uint64_t first = 0, step = 1, count = 0;  // the runs: grid indices first + k * step
  std::vector<std::uint64_t> ids;                 // run_id of run k (dropped once checked)
  double seconds = 0;                             // estimated, on one worker
  std::vector<std::uint64_t> largest;             // bytes of the largest runs, at most one a worker
  std::uint64_t plan_bytes = 0;                   // what planning itself holds at its peak

  std::uint64_t index(std::uint64_t k) const { return first + k * step; }
};

std::string id_text(std::uint64_t id) { return fmt::format("{:016x}", id); }

std::uint64_t axis_bytes(const Grid& grid) {
  std::uint64_t bytes = 0;
  for (const Axis& a : grid.axes())
    for (const std::string& v : a.values) bytes += sizeof(std::string) + (v.size() > 15 ? v.size() + 1 : 0);
  return bytes;
}

Plan plan_runs(const Grid& grid, const Shard& shard, int threads, int workers, const CostModel* cost) {
  Plan plan;
  plan.first = shard.k - 1;
  plan.step = shard.n;
  plan.count = grid.size() > plan.first ? (grid.size() - plan.first + plan.step - 1) / plan.step : 0;
  plan.ids.reserve(plan.count);
  const auto keep = static_cast<std::size_t>(std::max(1, workers));
  for (std::uint64_t k = 0; k < plan.count; ++k) {
    if (k % 1024 == 0) throw_if_interrupted();
    AnalysisConfig c = grid.config(plan.index(k));
    c.threads = threads;
    plan.ids.push_back(fnv1a64(record_config(c).dump()));
    if (!cost) continue;
    plan.seconds += run_seconds(*cost, c);
    // The `workers` largest runs, smallest first (a min-heap).
    plan.largest.push_back(run_bytes(c));
    std::push_heap(plan.largest.begin(), plan.largest.end(), std::greater<>());
    if (plan.largest.size() > keep) {
      std::pop_heap(plan.largest.begin(), plan.largest.end(), std::greater<>());
      plan.largest.pop_back();
    }
  }
  // Two runs resolving to one config (e.g. --init auto next to the scheme it picks).
  std::vector<std::uint64_t> sorted = plan.ids;
  std::sort(sorted.begin(), sorted.end());
  plan.plan_bytes = 2 * plan.count * sizeof(std::uint64_t) + axis_bytes(grid);
  if (const auto twin = std::adjacent_find(sorted.begin(), sorted.end()); twin != sorted.end()) {
    std::vector<std::uint64_t> at;
    for (std::uint64_t k = 0; k < plan.count && at.size() < 2; ++k)
      if (plan.ids[k] == *twin) at.push_back(plan.index(k));
    throw UsageError(fmt::format("runs {} ({}) and {} ({}) of the grid resolve to the same config: drop one "
                                 "of the values",
                                 at[0] + 1, grid.label(at[0]), at[1] + 1, grid.label(at[1])));
  }
  return plan;
}

// What a run costs the sweep beside the engine: resolving its config again, building its record
// (and writing it). For small networks that is most of the time, and the engine's cost model
// knows nothing of it. Timed on the plan's first run, with a narrow network of the same depth
// (up to 64 layers, scaled beyond) standing in for its result.
double per_run_overhead(const Grid& grid, const Plan& plan, bool csv, bool layers) {
  if (plan.count == 0) return 0;
  using Clock = std::chrono::steady_clock;
  try {
    const AnalysisConfig c = grid.config(plan.index(0));
    AnalysisConfig tiny = c;
    tiny.depth = std::min<Index>(c.depth, 64);
    tiny.width = {1};
    tiny.input_dim = 1;
    tiny.batch = 1;
    tiny.threads = 1;
    tiny.weights = WeightsMode::automatic;
    tiny.model = nullptr;  // --model: a plain stack of its depth stands in
    tiny.data = nullptr;
    const RunResult r = run_one(tiny, *find_activation(c.activations[0]));
    // The median of 15 timings after a warm-up: one slow first call would dominate a mean.
    std::vector<double> t;
    for (std::uint64_t rep = 0; rep < 16; ++rep) {
      const auto t0 = Clock::now();
      const AnalysisConfig x = grid.config(plan.index(rep % plan.count));
      const std::string record = csv ? record_csv(x, r, {layers, x.jacobian, x.jacobian_depths}) : record_jsonl(x, r, layers);
      if (rep > 0) t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + 7, t.end());
    const double median = t[7];
    return layers && c.depth > 64 ? median * static_cast<double>(c.depth) / 64 : median;
  } catch (const UsageError&) {
    return 0;  // an estimate only
  }
}

// The CSV's columns, before the first run. --jacobian is a flag, on for every run or for none: its
// columns follow the verdict; with it, one set per l of --jacobian-depths in any run (an axis of
// comma lists, canonical "0,16,24": each a list the option has checked).
RecordColumns csv_columns(const SweepOptions& o, const Grid& grid) {
  RecordColumns columns;
  columns.layers = o.layers;
  // Residual nets may be built (--residual, --arch or --model given): with --layers, each layer row
  // carries its block's figures (empty cells outside a block, and in a plain net).
  auto given = [&](const char* name) { return o.grid.was_given(name); };
  columns.blocks = o.layers && (given("residual") || given("arch") || given("model"));
  columns.model = given("model");
  columns.data = given("data");
  columns.jacobian = given("jacobian");
  if (!columns.jacobian) return columns;
  std::set<Index> all;
  for (const Axis& a : grid.axes()) {
    if (a.name != "jacobian-depths") continue;
    for (const std::string& value : a.values)
      for (std::size_t p = 0; p < value.size();) {
        const std::size_t comma = std::min(value.find(',', p), value.size());
        Index l = 0;
        if (std::from_chars(value.data() + p, value.data() + comma, l).ec == std::errc()) all.insert(l);
        p = comma + 1;
      }
  }
  columns.partials.assign(all.begin(), all.end());
  return columns;
}

// --dry-run: a tab-separated table of the runs, in grid order, written as it goes. A value may be
// a file's name, with any byte in it: escaped as in every table (a tab or newline of a name
// would make a column or a row of its own, an escape sequence would reach the terminal).
void write_run_table(const Grid& grid, const Plan& plan) {
  std::string out = "run\trun_id";
  for (const Axis& a : grid.axes()) out += "\t" + a.name;
  out += '\n';
  for (std::uint64_t k = 0; k < plan.count; ++k) {
    out += fmt::format("{}\t{}", plan.index(k) + 1, id_text(plan.ids[k]));
    for (const std::string& v : grid.values(plan.index(k))) out += "\t" + printable_line(v);
    out += '\n';
    if (out.size() > (1 << 16)) {
      write_stdout(out);
      out.clear();
    }
  }
  write_stdout(out);
}

// "150 runs (3 activation x 10 depth x 5 seed); 2 workers x 1 thread; estimated 4 s, ..."
std::string plan_line(const Grid& grid, const SweepOptions& o, const Shard& shard, const Plan& plan,
                      std::size_t present, std::uint64_t todo, int workers) {
  const int busy = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(workers), std::max<std::uint64_t>(1, todo)));
  // Run time scales with the runs left; memory is the larger of the plan and the runs in flight
  // beside what the sweep keeps for every run (a byte each) and the records waiting in order.
  const double seconds = plan.count ? plan.seconds * static_cast<double>(todo) / static_cast<double>(plan.count) : 0;
  const std::uint64_t in_flight = std::accumulate(plan.largest.begin(), plan.largest.end(), std::uint64_t{0});
  const std::uint64_t memory = std::max(plan.plan_bytes, axis_bytes(grid) + in_flight + todo);
  std::string line = grid.size() == 1 ? std::string("1 run") : fmt::format("{} runs ({})", grid.size(), grid.shape());
  if (shard.n > 1) line += fmt::format("; shard {}: {} of them", o.shard, plan.count);
  if (present) line += fmt::format("; {} already in {}, {} to run", present, o.output, todo);
  line += fmt::format("; {} worker{} x {} thread{}; estimated {}, {} of memory at most", workers,
                      workers == 1 ? "" : "s", o.threads, o.threads == 1 ? "" : "s",
                      format_duration(seconds / busy), format_bytes(memory));
  return line;
}

}  // namespace

int run_sweep(const SweepOptions& o) {
  const Grid grid(o.grid, o.max_runs);
  const Shard shard = parse_shard(o.shard);
  const bool csv = o.format == "csv";
  const int workers = worker_count(o.jobs, o.threads);
  const bool talk = !o.quiet && !o.dry_run;
  CostModel cost;
  if (talk) cost = calibrate_cost_model();
  if (talk && grid.size() / shard.n >= 100000)
    say("gradflow sweep: ", fmt::format("checking {} runs before the first one starts", grid.size() / shard.n));
  Plan plan = plan_runs(grid, shard, o.threads, workers, talk ? &cost : nullptr);
  if (talk) plan.seconds += static_cast<double>(plan.count) * per_run_overhead(grid, plan, csv, o.layers);
  if (o.dry_run) {
    write_run_table(grid, plan);
    return kExitOk;
  }

  if (o.output != "-") {  // no record file may replace what the sweep reads (--overwrite or not)
    std::vector<InputFile> inputs = {{"--config", o.config_file}};
    for (const Axis& a : grid.axes())
      if (a.name == "model" || a.name == "data" || a.name == "arch")
        for (const std::string& v : a.values) inputs.push_back({"--" + a.name, v});
    refuse_overwriting_inputs(resolve_output(o.output, "--output"), "--output", inputs);
  }
  const RecordColumns columns = csv_columns(o, grid);
  RecordFile file({o.output, csv, o.resume, o.overwrite, record_csv_header(columns)});
  if (!file.torn_notice().empty()) say("gradflow: warning: ", printable_line(file.torn_notice()));  // one line
  // The runs left: all of the shard, or those whose record is not in the file yet.
  std::vector<std::uint64_t> todo_index;  // grid indices; empty with nothing present
  if (!file.present().empty()) {
    std::vector<std::uint64_t> sorted = plan.ids;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::uint64_t> present;
    for (const std::string& id : file.present()) {
      const std::uint64_t v = std::stoull(id, nullptr, 16);  // 16 hex digits: run_id_of_line checked them
      if (!std::binary_search(sorted.begin(), sorted.end(), v))
        throw UsageError(fmt::format("--resume: '{}' holds run {} that is not in this sweep{}: was it "
                                     "written by another command? Give a new -o FILE, or --overwrite",
                                     o.output, id, shard.n > 1 ? fmt::format(" (shard {})", o.shard) : ""));
      present.push_back(v);
    }
    std::sort(present.begin(), present.end());
    for (std::uint64_t k = 0; k < plan.count; ++k)
      if (!std::binary_search(present.begin(), present.end(), plan.ids[k])) todo_index.push_back(plan.index(k));
  }
  const std::uint64_t todo = file.present().empty() ? plan.count : todo_index.size();
  auto grid_index = [&](std::size_t k) { return todo_index.empty() ? plan.index(k) : todo_index[k]; };
  if (talk) say("gradflow sweep: ", plan_line(grid, o, shard, plan, file.present().size(), todo, workers));
  std::vector<std::uint64_t>().swap(plan.ids);

  // Records wait in a ring of the pool's window: job k and job k + window are never both out.
  const std::size_t window = 8 * static_cast<std::size_t>(workers);
  std::vector<std::string> lines(window);
  Progress progress(todo, talk && is_terminal(STDERR_FILENO));
  const auto start = std::chrono::steady_clock::now();
  PoolCallbacks cb;
  cb.work = [&](std::size_t k) {
    AnalysisConfig c = grid.config(grid_index(k));
    c.threads = o.threads;
    const RunResult result = run_one(c, *find_activation(c.activations[0]));
    lines[k % window] = csv ? record_csv(c, result, columns) : record_jsonl(c, result, o.layers);
  };
  cb.deliver = [&](std::size_t k) {
    file.append(lines[k % window]);
    std::string().swap(lines[k % window]);
    progress.update(k + 1);
  };
  cb.tick = [&](std::size_t done) { progress.update(done); };
  const PoolOutcome outcome = run_in_order(todo, workers, cb, window);
  progress.finish();
  file.close();

  const std::size_t in_file = file.present().size() + outcome.delivered;
  if (outcome.interrupted) {
    if (!file.resumable())
      say("gradflow: ", fmt::format("interrupted after {} of {} runs; the records went to {}, so this "
                                    "sweep cannot be resumed: write them with -o FILE",
                                    in_file, plan.count, o.output == "-" ? "stdout" : "'" + printable_line(o.output) + "'"));
    else
      say("gradflow: ", fmt::format("interrupted: {} of {} runs are in '{}', each a whole line. To "
                                    "finish, run:\n  {}",
                                    in_file, plan.count, printable_line(o.output), resume_command()));
    return kExitInterrupted;
  }
  if (talk && todo == 0) {
    say("gradflow sweep: ", fmt::format("nothing to run: all {} runs are in '{}'", plan.count, printable_line(o.output)));
  } else if (talk) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    say("gradflow sweep: ",
        fmt::format("{} run{} in {} ({:.1f} runs/s){}", todo, todo == 1 ? "" : "s",
                    format_duration(secs), secs > 0 ? static_cast<double>(todo) / secs : 0.0,
                    !file.resumable() ? std::string() : fmt::format("; {} records in '{}'", in_file, printable_line(o.output))));
  }
  return kExitOk;
}

}  // namespace gf
