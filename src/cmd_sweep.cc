#include "cmd_sweep.h"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <thread>
#include <unistd.h>

#include "errors.h"
#include "estimate.h"
#include "exit_status.h"
#include "output.h"
#include "progress.h"
#include "record_file.h"
#include "run_pool.h"
#include "run_record.h"
#include "terminal.h"
#include "validators.h"

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
                  "be a list, or a range as a string (\"depth\": \"5:50:5\"); flags win")
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

void say(const char* prefix, const std::string& text) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s%s\n", prefix, text.c_str());
}

struct PlannedRun {
  std::uint64_t index;
  AnalysisConfig config;
  std::string run_id;
};

// Every run of this shard, resolved and checked before the first one starts.
std::vector<PlannedRun> plan_runs(const Grid& grid, const Shard& shard, int threads,
                                  std::map<std::string, std::uint64_t>& index_of_id) {
  std::vector<PlannedRun> runs;
  for (std::uint64_t i = 0; i < grid.size(); ++i) {
    if (!shard.contains(i)) continue;
    AnalysisConfig c = grid.config(i);
    c.threads = threads;
    std::string id = run_id_of(record_config(c));
    if (const auto [it, fresh] = index_of_id.emplace(id, i); !fresh)
      throw UsageError(fmt::format("runs {} ({}) and {} ({}) of the grid resolve to the same "
                                   "config: drop one of the values",
                                   it->second + 1, grid.label(it->second), i + 1, grid.label(i)));
    runs.push_back({i, std::move(c), std::move(id)});
  }
  return runs;
}

// --dry-run: a tab-separated table of the runs, in grid order.
std::string run_table(const Grid& grid, const std::vector<PlannedRun>& runs) {
  std::string out = "run\trun_id";
  for (const Axis& a : grid.axes()) out += "\t" + a.name;
  out += '\n';
  for (const PlannedRun& r : runs) {
    out += fmt::format("{}\t{}", r.index + 1, r.run_id);
    for (const std::string& v : grid.values(r.index)) out += "\t" + v;
    out += '\n';
  }
  return out;
}

// "150 runs (3 activation x 10 depth x 5 seed); 2 workers x 1 thread; estimated 4 s, ..."
std::string plan_line(const Grid& grid, const SweepOptions& o, const Shard& shard, std::size_t selected,
                      std::size_t present, const std::vector<const PlannedRun*>& todo, int workers,
                      const CostModel& cost) {
  double seconds = 0;
  std::vector<std::uint64_t> bytes;
  for (const PlannedRun* r : todo) {
    seconds += run_seconds(cost, r->config);
    bytes.push_back(run_bytes(r->config));
  }
  const int busy = std::min<int>(workers, static_cast<int>(std::max<std::size_t>(1, todo.size())));
  std::string plan = grid.size() == 1 ? std::string("1 run") : fmt::format("{} runs ({})", grid.size(), grid.shape());
  if (shard.n > 1) plan += fmt::format("; shard {}: {} of them", o.shard, selected);
  if (present) plan += fmt::format("; {} already in {}, {} to run", present, o.output, todo.size());
  plan += fmt::format("; {} worker{} x {} thread{}; estimated {}, {} of memory at most", workers,
                      workers == 1 ? "" : "s", o.threads, o.threads == 1 ? "" : "s",
                      format_duration(seconds / busy), format_bytes(peak_bytes(bytes, workers)));
  return plan;
}

}  // namespace

int run_sweep(const SweepOptions& o) {
  const Grid grid(o.grid, o.max_runs);
  const Shard shard = parse_shard(o.shard);
  const bool csv = o.format == "csv";
  std::map<std::string, std::uint64_t> index_of_id;
  const std::vector<PlannedRun> runs = plan_runs(grid, shard, o.threads, index_of_id);
  if (o.dry_run) {
    write_stdout(run_table(grid, runs));
    return kExitOk;
  }

  const int workers = worker_count(o.jobs, o.threads);
  const bool talk = !o.quiet;
  CostModel cost;
  if (talk) cost = calibrate_cost_model();

  RecordFile file({o.output, csv, o.resume, o.overwrite, record_csv_header(o.layers)});
  if (!file.torn_notice().empty()) say("gradflow: warning: ", file.torn_notice());
  for (const std::string& id : file.present())
    if (!index_of_id.count(id))
      throw UsageError(fmt::format("--resume: '{}' holds run {} that is not in this sweep{}: was it "
                                   "written by another command? Give a new -o FILE, or --overwrite",
                                   o.output, id, shard.n > 1 ? fmt::format(" (shard {})", o.shard) : ""));
  std::vector<const PlannedRun*> todo;
  for (const PlannedRun& r : runs)
    if (!file.present().count(r.run_id)) todo.push_back(&r);

  if (talk)
    say("gradflow sweep: ", plan_line(grid, o, shard, runs.size(), file.present().size(), todo, workers, cost));

  std::vector<std::string> lines(todo.size());
  Progress progress(todo.size(), talk && is_terminal(STDERR_FILENO));
  const auto start = std::chrono::steady_clock::now();
  PoolCallbacks cb;
  cb.work = [&](std::size_t k) {
    const PlannedRun& r = *todo[k];
    const RunResult result = run_one(r.config, *find_activation(r.config.activations[0]));
    lines[k] = csv ? record_csv(r.config, result, o.layers) : record_jsonl(r.config, result, o.layers);
  };
  cb.deliver = [&](std::size_t k) {
    file.append(lines[k]);
    std::string().swap(lines[k]);
    progress.update(k + 1);
  };
  cb.tick = [&](std::size_t done) { progress.update(done); };
  const PoolOutcome outcome = run_in_order(todo.size(), workers, cb);
  progress.finish();
  file.close();

  const std::size_t in_file = file.present().size() + outcome.delivered;
  if (outcome.interrupted) {
    if (!file.resumable())
      say("gradflow: ", fmt::format("interrupted after {} of {} runs; the records went to {}, so this "
                                    "sweep cannot be resumed: write them with -o FILE",
                                    in_file, runs.size(), o.output == "-" ? "stdout" : "'" + o.output + "'"));
    else
      say("gradflow: ", fmt::format("interrupted: {} of {} runs are in '{}', each a whole line. To "
                                    "finish, run:\n  {}",
                                    in_file, runs.size(), o.output, resume_command()));
    return kExitInterrupted;
  }
  if (talk && todo.empty()) {
    say("gradflow sweep: ", fmt::format("nothing to run: all {} runs are in '{}'", runs.size(), o.output));
  } else if (talk) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    say("gradflow sweep: ",
        fmt::format("{} run{} in {} ({:.1f} runs/s){}", todo.size(), todo.size() == 1 ? "" : "s",
                    format_duration(secs), secs > 0 ? static_cast<double>(todo.size()) / secs : 0.0,
                    !file.resumable() ? std::string() : fmt::format("; {} records in '{}'", in_file, o.output)));
  }
  return kExitOk;
}

}  // namespace gf
