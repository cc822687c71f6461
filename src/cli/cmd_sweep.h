#pragma once
// `gradflow sweep`: many runs of `analyze` over a grid, written as records (JSONL or CSV) in
// grid order as they complete, resumable, shardable.
#include "config/cli_fwd.h"
#include <cstdint>
#include <string>

#include "batch/grid.h"

namespace gf {

struct SweepOptions {
  GridOptions grid;
  std::string config_file;
  int jobs = 0;     // 0: every core, divided by --threads
  int threads = 1;  // per run
  std::string shard = "1/1";
  std::uint64_t max_runs = 100000;
  std::string format = "jsonl";
  std::string output = "-";
  bool layers = false, resume = false, overwrite = false, quiet = false, dry_run = false;
};

CLI::App* setup_sweep(CLI::App& app, SweepOptions& o);
int run_sweep(const SweepOptions& o);

// Worker count for -j (0: the cores, divided by the threads of each run).
int worker_count(int jobs, int threads);

}  // namespace gf
