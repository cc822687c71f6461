#pragma once
// What a training run's log says, in a few numbers and sentences: steps to the target, the
// speed-up against the slowest activation, units that died, the top layer's saturation, and
// one-signed (zig-zagging) updates. Also the spread of these over --seed ranges.
#include <span>
#include <string>
#include <vector>

#include "train/train_config.h"
#include "train/train_record.h"

namespace gf {

// Sign coherence (mean over log steps) earns a sentence when it is at least this far from what
// random signs give towards 1, (c - chance) / (1 - chance): the updates of a unit's incoming
// weights mostly share one sign, the zig-zag of LeCun et al. 1998.
inline constexpr double kCoherentAbove = 0.5;

// E|s_1 + ... + s_n| / n for independent random signs: the sign coherence of a row of n
// weights whose updates have no common sign (1 for n = 1, 1/2 for n = 2 and 3, ~0.8/sqrt(n)).
double chance_coherence(Index fan_in);

// Count, mean, sample standard deviation (n - 1; NaN below 2 values), min and max.
struct Spread {
  Index n = 0;
  double mean = kNaN, sd = kNaN, min = kNaN, max = kNaN;
};
Spread spread_of(std::span<const double> values);

struct ActivationAggregate {
  std::string activation;
  double lr = kNaN;
  Index runs = 0, reached = 0, diverged = 0;
  Spread steps_to_target;  // over the runs that reached the target
  Spread speedup;          // over the seeds where it is defined
};

// Share of all hidden units dead at one log step (layers weighted by their widths n_1..n_L);
// NaN when a layer's is (a diverged step).
double hidden_dead_frac(const LogRecord& r, std::span<const Index> hidden_widths);
// n_1 .. n_L of c's network on data with `features` inputs.
std::vector<Index> hidden_widths(const TrainConfig& c, Index features);

// Fills run.summary (not the speed-up); `features` is n_0; `with_seed` puts the seed in sentences.
void summarize_run(TrainRun& run, const TrainConfig& c, Index features, bool with_seed);
// Speed-ups within each (seed, learning rate): the `reference` activation's steps to target over
// each run's; undefined when either did not reach the target.
void set_speedups(std::vector<TrainRun>& runs, const std::string& reference);
// Per learning rate (in order), then activation.
std::vector<ActivationAggregate> aggregate_runs(const std::vector<TrainRun>& runs,
                                                const std::vector<std::string>& activations,
                                                const std::vector<double>& lrs);

// Each activation at its own best learning rate: the one where the most seeds reached the target,
// then the fewest steps on average (then the first given). The speed-up, seed by seed, is the
// reference's steps at its best rate over this activation's at its best rate.
struct BestRate {
  std::string activation;
  double lr = kNaN;
  Index runs = 0, reached = 0;
  Spread steps_to_target, speedup;
};
std::vector<BestRate> best_rates(const std::vector<ActivationAggregate>& aggregate, const std::vector<TrainRun>& runs,
                                 const std::string& reference);

// "diverged at step 57: layer 3 pre-activations became non-finite; lower --lr (now 0.5)"
std::string divergence_text(const TrainRun& run, const TrainConfig& c);
// "relu seed 2: diverged at step 57: layer 3 pre-activations became non-finite; lower --lr (now 0.5)"
std::string divergence_message(const TrainRun& run, const TrainConfig& c, bool with_seed);

}  // namespace gf
