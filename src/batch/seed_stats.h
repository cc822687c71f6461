#pragma once
// `analyze --seed 0:31`: every network of the config once per seed, and per activation and layer
// the mean and standard error of every metric over the seeds. One seed is one sample; the
// spread over seeds says how far a single run's number can be trusted.
//
// Each metric is described as summarize describes one (aggregate.h): mean, and SE = the sample
// standard deviation (n - 1) over sqrt(n), over the seeds whose value is finite (n); no SE below
// two. Sums run in seed order, so the result is the same for any -j.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "batch/aggregate.h"
#include "core/analysis.h"

namespace gf {

struct SeedStats {
  std::string activation, init;
  std::size_t runs = 0, finite = 0;                     // finite: runs that did not overflow
  std::vector<Describe> summary;                        // one per summary_metrics() entry
  std::vector<std::vector<Describe>> layers;            // [layer - 1][layer_metrics() entry]
  std::vector<std::pair<std::string, std::size_t>> verdicts;  // verdict, runs given it (first seen first)
};

struct SeedAnalysis {
  AnalysisConfig config;  // config.seed: the first seed
  std::vector<std::uint64_t> seeds;
  std::vector<RunResult> runs;  // seed-major: runs[s * activations + a], each as `analyze --seed s` gives it
  std::vector<SeedStats> stats;  // one per activation, in config order
  const RunResult& run(std::size_t seed_index, std::size_t activation) const {
    return runs[seed_index * config.activations.size() + activation];
  }
};

// Runs every (seed, activation) on `workers` threads (each run single-threaded, or sharing the
// threads when there are fewer runs than workers). Throws Interrupted on Ctrl-C.
SeedAnalysis run_seeds(const AnalysisConfig& c, const std::vector<std::uint64_t>& seeds, int workers,
                       const RunProgress& on_run = {});
SeedStats seed_stats(const std::vector<const RunResult*>& runs);  // runs of one activation

}  // namespace gf
