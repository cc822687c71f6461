// gradflow sweep, end to end: the real binary, real files, real signals.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "process.h"

using namespace gf::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> args(std::initializer_list<std::string> a, const std::vector<std::string>& more = {}) {
  std::vector<std::string> v(a);
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

// A small grid: 2 activations x 3 depths x 4 seeds of tiny networks.
const std::vector<std::string> kGrid = {"-a", "tanh,relu", "-d", "2:6:2", "-w", "16", "-b", "8", "--seed", "0:3", "-q"};

// Starts gradflow without waiting; stdout and stderr go to files.
pid_t spawn(const std::vector<std::string>& a, const std::string& out, const std::string& err) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<std::string> argv{GRADFLOW_BINARY};
    argv.insert(argv.end(), a.begin(), a.end());
    std::vector<char*> p;
    for (std::string& s : argv) p.push_back(s.data());
    p.push_back(nullptr);
    ::execv(p[0], p.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits until `path` holds at least `lines` complete lines (or the process has ended).
bool wait_lines(pid_t pid, const std::string& path, std::size_t lines) {
  for (int k = 0; k < 20000; ++k) {
    const std::string text = read_file(path);
    if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Runs of a few milliseconds each, so that a signal reliably lands mid-sweep.
const std::vector<std::string> kSlowGrid = {"-a", "tanh", "-d", "8", "-w", "256", "-b", "32", "--seed", "0:11", "-j", "1"};

}  // namespace

TEST_CASE("sweep: the grid comes out in the documented order (last axis fastest)") {
  const ProcessResult r = run_gradflow({"sweep", "-a", "tanh,relu", "-d", "5:10:5", "--seed", "0:1", "-w", "8", "--dry-run"});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(lines.size() == 9);
  CHECK(lines[0] == "run\trun_id\tactivation\tdepth\twidth\tseed");
  std::size_t k = 1;
  for (const char* a : {"tanh", "relu"})
    for (const char* d : {"5", "10"})
      for (const char* s : {"0", "1"}) {
        const std::string tail = fmt::format("\t{}\t{}\t8\t{}", a, d, s);
        CHECK(lines[k].rfind(std::to_string(k) + "\t", 0) == 0);
        CHECK(lines[k].substr(lines[k].size() - tail.size()) == tail);
        ++k;
      }
}

TEST_CASE("sweep: bad grids are usage errors (exit 2) that name the flag, and write nothing") {
  const std::string dir = temp_dir(), out = dir + "/runs.jsonl";
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"-d", "5:1:1"}, "--depth: range '5:1:1' is empty: stop 1 is below start 5"},
      {{"-d", "5:50:0"}, "--depth: range '5:50:0' has step 0: the step must be positive"},
      {{"--seed", "0:9:2.5"}, "--seed: range '0:9:2.5': step '2.5' is not a whole number"},
      {{"--sigma-w2", "2:1:0.5"}, "--sigma-w2: range '2:1:0.5' is empty"},
      {{"-a", "tanh:relu"}, "--activation: 'tanh:relu' looks like a range"},
      {{"-d", "0,5"}, "--depth: '0' is not allowed: give a whole number from 1 to 100000"},
      {{"-d", "1:20", "--seed", "0:99"}, "the grid has 6000 runs (3 activation x 20 depth x 100 seed), more than --max-runs 5000"},
      {{"--init", "he_normal", "--sigma-w2", "1,2", "-a", "tanh"}, "run 1 of the grid (sigma-w2=1): --init he_normal and --sigma-w2"},
      {{"--shard", "0/3"}, "--shard: '0/3' is not allowed"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> a = {"sweep", "-w", "8", "-o", out, "--max-runs", "5000"};
    a.insert(a.end(), c.flags.begin(), c.flags.end());
    const ProcessResult r = run_gradflow(a);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("gradflow: error: ", 0) == 0);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(file_exists(out));
  }
}

TEST_CASE("sweep: records are byte-identical for -j 1 and -j 2, and match analyze") {
  const ProcessResult one = run_gradflow(args({"sweep", "-j", "1"}, kGrid));
  const ProcessResult two = run_gradflow(args({"sweep", "-j", "2"}, kGrid));
  REQUIRE(one.exit_code == 0);
  REQUIRE(two.exit_code == 0);
  CHECK(one.out == two.out);
  const std::vector<std::string> lines = lines_of(one.out);
  REQUIRE(lines.size() == 24);
  const ProcessResult csv1 = run_gradflow(args({"sweep", "-j", "1", "--format", "csv", "--layers"}, kGrid));
  const ProcessResult csv2 = run_gradflow(args({"sweep", "-j", "2", "--format", "csv", "--layers"}, kGrid));
  CHECK(csv1.out == csv2.out);
  CHECK(lines_of(csv1.out).size() == 1 + 2 * 4 * (2 + 4 + 6));  // header, a row per layer

  // Record 15 (relu, depth 2, seed 2) holds what analyze reports for that network.
  const json rec = json::parse(lines[14]);
  CHECK(rec["config"]["activation"] == "relu");
  CHECK(rec["config"]["depth"] == 2);
  CHECK(rec["config"]["seed"] == 2);
  const ProcessResult a = run_gradflow({"analyze", "-a", "relu", "-d", "2", "-w", "16", "-b", "8", "--seed", "2", "--format", "json"});
  REQUIRE(a.exit_code == 0);
  const json doc = json::parse(a.out);
  CHECK(rec["summary"] == doc["runs"][0]["summary"]);
  CHECK(rec["resolved_init"] == doc["runs"][0]["init"]);
  json config = doc["config"];
  config["activation"] = "relu";
  config["width"] = 16;
  CHECK(rec["config"] == config);
  // With --layers, the per-layer records are analyze's too.
  const ProcessResult with_layers = run_gradflow({"sweep", "-a", "relu", "-d", "2", "-w", "16", "-b", "8", "--seed", "2", "--layers", "-q"});
  const json layered = json::parse(with_layers.out);
  CHECK(layered["layers"] == doc["runs"][0]["layers"]);
  CHECK(layered["run_id"] == rec["run_id"]);  // --layers changes the record, not the run
  // run_ids are unique.
  std::set<std::string> ids;
  for (const std::string& l : lines) ids.insert(json::parse(l)["run_id"].get<std::string>());
  CHECK(ids.size() == 24);
}

TEST_CASE("sweep: the union of the shards is the full sweep, each shard in grid order") {
  const std::string dir = temp_dir();
  const ProcessResult full = run_gradflow(args({"sweep"}, kGrid));
  REQUIRE(full.exit_code == 0);
  const std::vector<std::string> all = lines_of(full.out);
  std::vector<std::string> files, union_lines;
  for (int k = 1; k <= 3; ++k) {
    const std::string f = fmt::format("{}/shard{}.jsonl", dir, k);
    const ProcessResult r = run_gradflow(args({"sweep", "--shard", fmt::format("{}/3", k), "-o", f}, kGrid));
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> shard = lines_of(read_file(f));
    std::vector<std::string> expected;
    for (std::size_t i = static_cast<std::size_t>(k - 1); i < all.size(); i += 3) expected.push_back(all[i]);
    CHECK(shard == expected);
    union_lines.insert(union_lines.end(), shard.begin(), shard.end());
    files.push_back(f);
  }
  std::vector<std::string> sorted_all = all;
  std::sort(sorted_all.begin(), sorted_all.end());
  std::sort(union_lines.begin(), union_lines.end());
  CHECK(union_lines == sorted_all);

  // merge: each run once (a shard given twice adds nothing), same set of records.
  const ProcessResult m = run_gradflow({"merge", files[0], files[1], files[2], files[1], "-o", dir + "/merged.jsonl"});
  REQUIRE(m.exit_code == 0);
  CHECK(m.err.find("24 records from 4 files, 8 duplicates dropped") != std::string::npos);
  std::vector<std::string> merged = lines_of(read_file(dir + "/merged.jsonl"));
  std::sort(merged.begin(), merged.end());
  CHECK(merged == sorted_all);
}

TEST_CASE("sweep: an existing output is kept unless --resume or --overwrite") {
  const std::string dir = temp_dir(), out = dir + "/runs.jsonl";
  write_file(out, "precious\n");
  const ProcessResult r = run_gradflow(args({"sweep", "-o", out}, kGrid));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'" + out + "' already exists: add --resume to finish the sweep it holds, or --overwrite") !=
        std::string::npos);
  CHECK(read_file(out) == "precious\n");
  const ProcessResult bad = run_gradflow(args({"sweep", "-o", out, "--resume"}, kGrid));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("line 1 of '" + out + "' is not a record of gradflow sweep") != std::string::npos);
  CHECK(read_file(out) == "precious\n");
  const ProcessResult both = run_gradflow(args({"sweep", "-o", out, "--resume", "--overwrite"}, kGrid));
  CHECK(both.exit_code == 2);
  const ProcessResult over = run_gradflow(args({"sweep", "-o", out, "--overwrite"}, kGrid));
  CHECK(over.exit_code == 0);
  CHECK(read_file(out) == run_gradflow(args({"sweep"}, kGrid)).out);
}

TEST_CASE("sweep --resume: a torn last line is dropped and said, and the result is the uninterrupted file") {
  const std::string dir = temp_dir();
  for (const std::string format : {"jsonl", "csv"}) {
    const std::string out = dir + "/runs." + format;
    const std::string full = run_gradflow(args({"sweep", "--format", format}, kGrid)).out;
    // The first 9 lines and half of the 10th, as a machine that died mid-write leaves it.
    std::size_t cut = 0;
    for (int k = 0; k < 9; ++k) cut = full.find('\n', cut) + 1;
    const std::size_t torn = (full.find('\n', cut) - cut) / 2;
    write_file(out, full.substr(0, cut + torn));
    const ProcessResult r = run_gradflow(args({"sweep", "--format", format, "-o", out, "--resume"}, kGrid));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("warning: dropped a torn last line from '" + out + "' (line 10") != std::string::npos);
    CHECK(read_file(out) == full);
    // Resuming a finished sweep changes nothing.
    CHECK(run_gradflow(args({"sweep", "--format", format, "-o", out, "--resume"}, kGrid)).exit_code == 0);
    CHECK(read_file(out) == full);
  }
  // Records of another sweep are not silently mixed in.
  const std::string other = dir + "/other.jsonl";
  write_file(other, run_gradflow({"sweep", "-a", "sigmoid", "-d", "3", "-w", "8", "-b", "4", "-q"}).out);
  const ProcessResult mixed = run_gradflow(args({"sweep", "-o", other, "--resume"}, kGrid));
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.err.find("that is not in this sweep") != std::string::npos);
}

TEST_CASE("sweep: kill -9 mid-sweep leaves whole lines, and --resume completes the same records") {
  const std::string dir = temp_dir(), out = dir + "/runs.jsonl";
  const ProcessResult ref = run_gradflow(args({"sweep", "-q"}, kSlowGrid));
  REQUIRE(ref.exit_code == 0);
  REQUIRE(lines_of(ref.out).size() == 12);

  const pid_t pid = spawn(args({"sweep", "-q", "-o", out}, kSlowGrid), dir + "/out", dir + "/err");
  REQUIRE(wait_lines(pid, out, 2));
  ::kill(pid, SIGKILL);
  CHECK(wait_for(pid) == 128 + SIGKILL);
  const std::string partial = read_file(out);
  const auto n = std::count(partial.begin(), partial.end(), '\n');
  CHECK(n >= 2);
  CHECK(n < 12);  // really killed mid-way
  CHECK(partial.back() == '\n');
  CHECK(ref.out.compare(0, partial.size(), partial) == 0);  // whole records, the first ones

  const ProcessResult resumed = run_gradflow(args({"sweep", "-o", out, "--resume"}, kSlowGrid));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find(fmt::format("{} already in {}, {} to run", n, out, 12 - n)) != std::string::npos);
  CHECK(read_file(out) == ref.out);
}

TEST_CASE("sweep: SIGINT stops cleanly with exit 130, whole lines only, and says how to resume") {
  const std::string dir = temp_dir(), out = dir + "/runs.jsonl";
  const ProcessResult ref = run_gradflow(args({"sweep", "-q"}, kSlowGrid));
  REQUIRE(ref.exit_code == 0);
  for (const int sig : {SIGINT, SIGTERM}) {
    ::unlink(out.c_str());
    const pid_t pid = spawn(args({"sweep", "-o", out}, kSlowGrid), dir + "/out", dir + "/err");
    REQUIRE(wait_lines(pid, out, 1));
    ::kill(pid, sig);
    CHECK(wait_for(pid) == 130);
    const std::string partial = read_file(out), err = read_file(dir + "/err");
    INFO(err);
    const auto n = std::count(partial.begin(), partial.end(), '\n');
    CHECK(n >= 1);
    CHECK(n < 12);
    CHECK(partial.back() == '\n');
    CHECK(ref.out.compare(0, partial.size(), partial) == 0);
    CHECK(err.find(fmt::format("gradflow: interrupted: {} of 12 runs are in '{}'", n, out)) != std::string::npos);
    CHECK(err.find(" --resume\n") != std::string::npos);
    const ProcessResult resumed = run_gradflow(args({"sweep", "-q", "-o", out, "--resume"}, kSlowGrid));
    REQUIRE(resumed.exit_code == 0);
    CHECK(read_file(out) == ref.out);
  }
}

TEST_CASE("sweep: the plan on stderr, no progress bar off a terminal, --quiet silences both") {
  const ProcessResult r = run_gradflow(args({"sweep"}, {"-a", "tanh", "-d", "2:4", "-w", "8", "-b", "4", "--seed", "0:1"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("gradflow sweep: 6 runs (3 depth x 2 seed);") == 0);
  CHECK(r.err.find("estimated") != std::string::npos);
  CHECK(r.err.find("of memory at most") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);
  const ProcessResult q = run_gradflow(args({"sweep", "-q"}, {"-a", "tanh", "-d", "2:4", "-w", "8", "-b", "4"}));
  CHECK(q.err.empty());
  // A config file names axes like the flags do.
  const std::string dir = temp_dir();
  write_file(dir + "/s.json", R"({"activation": ["tanh", "relu"], "depth": "2:6:2", "width": 16, "batch": 8, "seed": "0:3"})");
  const ProcessResult c = run_gradflow({"sweep", "--config", dir + "/s.json", "-q"});
  CHECK(c.out == run_gradflow(args({"sweep"}, kGrid)).out);
}

TEST_CASE("sweep: a progress bar on a terminal (done/total, runs/s, ETA), none with --quiet") {
  REQUIRE_MESSAGE(file_exists("/usr/bin/script"), "util-linux's script(1) gives the test a terminal");
  const std::string dir = temp_dir();
  const std::string cmd = fmt::format("{} sweep -a tanh -d 2:9 -w 8 -b 4 --seed 0:4 -o {}/runs.jsonl", GRADFLOW_BINARY, dir);
  const ProcessResult tty = run_process({"/usr/bin/script", "-q", "-e", "-c", cmd, "/dev/null"});
  INFO(tty.out, tty.err);
  CHECK(tty.exit_code == 0);
  CHECK(tty.out.find("\r\x1b[K") != std::string::npos);
  CHECK(tty.out.find("40/40 runs") != std::string::npos);
  CHECK(tty.out.find("runs/s  ETA") != std::string::npos);
  const ProcessResult quiet = run_process({"/usr/bin/script", "-q", "-e", "-c", cmd + " --overwrite -q", "/dev/null"});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.out.find("runs/s") == std::string::npos);
  const std::string records = read_file(dir + "/runs.jsonl");
  CHECK(std::count(records.begin(), records.end(), '\n') == 40);
}
