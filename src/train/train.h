#pragma once
// `train` as a library call: one run per (seed, activation), on identical data, mini-batch
// order and draws; runs spread over the cores; summaries and their spread over seeds.
#include <string>
#include <vector>

#include "train/dataset.h"
#include "train/train_config.h"
#include "train/train_record.h"
#include "train/train_run.h"
#include "train/train_summary.h"

namespace gf {

struct DatasetInfo {
  std::string name;
  Index features = 0, classes = 0, n_train = 0, n_test = 0;
  std::vector<std::string> feature_names, class_names;
};

struct TrainResult {
  TrainConfig config;
  DatasetInfo data;
  std::vector<TrainRun> runs;  // seed-major, then learning rate: runs[(s * lrs + k) * activations + a]
  std::vector<ActivationAggregate> aggregate;  // per (learning rate, activation)
  std::vector<BestRate> best;                  // several learning rates: each activation at its best
  bool interrupted = false;    // Ctrl-C: runs stopped early, their summary covers the steps taken

  bool several_seeds() const { return config.seeds.size() > 1; }
  bool several_lrs() const { return config.learning_rates().size() > 1; }
};

// Validates c against d, then trains every (seed, learning rate, activation). With T threads and R runs, min(T, R) runs go at once,
// each on max(1, T / R) threads; results are the same for any T.
TrainResult run_training(const TrainConfig& c, const Dataset& d, TrainObserver* observer = nullptr);

}  // namespace gf
