// The recipes in docs/cluster/, run for real: shards under GNU parallel and as (simulated) Slurm
// array tasks, merged, give exactly the records of the single-process sweep.
#include <doctest/doctest.h>

#include <algorithm>
#include <fmt/format.h>
#include <sstream>

#include "process.h"

using namespace gf::test;

namespace {

const std::vector<std::string> kGrid = {"-a", "sigmoid,relu", "-d", "2:5", "-w", "16", "-b", "8", "--seed", "0:2"};

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("GNU parallel recipe: shards in parallel, merged, equal the single-process sweep") {
  REQUIRE_MESSAGE(file_exists("/usr/bin/parallel"), "GNU parallel is missing: .ci/setup installs the Debian package 'parallel'");
  const std::vector<std::string> single = sorted_lines(run_gradflow(concat({"sweep", "-q"}, kGrid)).out);
  REQUIRE(single.size() == 24);

  const std::string dir = temp_dir();
  ProcessOptions o;
  o.cwd = dir;
  o.env = {{"GRADFLOW", GRADFLOW_BINARY}};
  const std::string script = std::string(GRADFLOW_SOURCE_DIR) + "/docs/cluster/sweep-parallel.sh";
  const std::vector<std::string> cmd = concat({"/bin/bash", script, "4", "runs.jsonl"}, kGrid);
  const ProcessResult r = run_process(cmd, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::size_t in_shards = 0;
  for (int k = 1; k <= 4; ++k) {
    const std::string shard = read_file(fmt::format("{}/runs.shard-{}.jsonl", dir, k));
    CHECK(sorted_lines(shard).size() == 6);  // 24 runs, interleaved into 4 shards
    in_shards += sorted_lines(shard).size();
  }
  CHECK(in_shards == 24);
  CHECK(sorted_lines(read_file(dir + "/runs.jsonl")) == single);

  // Run again: every shard resumes with nothing to do; the result is unchanged.
  const std::string before = read_file(dir + "/runs.jsonl");
  REQUIRE(run_process(cmd, o).exit_code == 0);
  CHECK(read_file(dir + "/runs.jsonl") == before);

  // The --sshlogin path of GNU parallel (":" is this machine).
  o.env["PARALLEL_OPTS"] = "--sshlogin 2/: --return {shardfile}";
  const ProcessResult ssh = run_process(concat({"/bin/bash", script, "3", "ssh.jsonl"}, kGrid), o);
  INFO(ssh.err);
  REQUIRE(ssh.exit_code == 0);
  CHECK(sorted_lines(read_file(dir + "/ssh.jsonl")) == single);
}

TEST_CASE("Slurm array script: every task's shard, merged, equals the single-process sweep") {
  const std::vector<std::string> single = sorted_lines(run_gradflow(concat({"sweep", "-q"}, kGrid)).out);
  const std::string dir = temp_dir();
  write_file(dir + "/sweep.json", R"({"activation": ["sigmoid", "relu"], "depth": "2:5", "width": 16, "batch": 8, "seed": "0:2"})");
  const std::string script = std::string(GRADFLOW_SOURCE_DIR) + "/docs/cluster/sweep.slurm";
  for (int task = 1; task <= 3; ++task) {
    ProcessOptions o;
    o.cwd = dir;
    o.env = {{"GRADFLOW", GRADFLOW_BINARY}, {"SLURM_ARRAY_TASK_ID", std::to_string(task)},
             {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_CPUS_PER_TASK", "2"}};
    const ProcessResult r = run_process({"/bin/bash", script, "sweep.json", "out"}, o);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const ProcessResult m = run_gradflow({"merge", dir + "/out/shard-1.jsonl", dir + "/out/shard-2.jsonl",
                                        dir + "/out/shard-3.jsonl", "-o", dir + "/runs.jsonl"});
  REQUIRE(m.exit_code == 0);
  CHECK(sorted_lines(read_file(dir + "/runs.jsonl")) == single);
}

TEST_CASE("Slurm array script: a requeued task waits for its cancelled predecessor's lock") {
  // Slurm can start a requeued task while the cancelled one still exits holding the shard's lock;
  // without the script's wait, gradflow refuses the locked file and the task fails.
  const std::string dir = temp_dir();
  write_file(dir + "/sweep.json", R"({"activation": "relu", "depth": 2, "width": 8, "batch": 4, "seed": "0:1"})");
  const std::string script = std::string(GRADFLOW_SOURCE_DIR) + "/docs/cluster/sweep.slurm";
  ProcessOptions o;
  o.cwd = dir;
  o.env = {{"GRADFLOW", GRADFLOW_BINARY}, {"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "1"}};
  const std::string held = "mkdir -p out && : > out/shard-1.jsonl && (flock out/shard-1.jsonl sleep 1.5 &) && sleep 0.3 && ";
  const ProcessResult r = run_process({"/bin/bash", "-c", held + "/bin/bash '" + script + "' sweep.json out"}, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(sorted_lines(read_file(dir + "/out/shard-1.jsonl")).size() == 2);
}
