#pragma once
// `train` as a library call's input: the network flags shared with `analyze`, the data, the
// optimiser and the schedule, fully resolved. The CLI and config files fill it in.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/seed_list.h"
#include "core/analysis.h"
#include "train/dataset.h"
#include "train/optimizer.h"

namespace gf {

struct DataConfig {
  std::string data = "spirals";  // a built-in name, or a CSV file
  Index n_train = 1000, n_test = 1000;
  std::optional<double> noise;
  Index teacher_depth = 2;
  std::string label_col;         // CSV: name or column number; "" = the last column
  double test_frac = 0.2;        // CSV
  bool standardize = false;
  std::uint64_t seed = 0;        // --data-seed
};

struct TrainConfig {
  // Network flags shared with analyze. net.batch is the mini-batch; net.seed is unused (seeds);
  // net.input says how features are scaled (dataset.h's FeatureScaling).
  AnalysisConfig net;
  std::vector<std::uint64_t> seeds{0};  // one run per (seed, learning rate, activation)
  std::vector<double> lrs;              // --lr: one or several; empty: optimizer.lr alone
  std::string speedup_vs;               // --speedup-vs: "" is tanh when trained, else the first activation
  DataConfig data;
  OptimizerConfig optimizer;
  Index steps = 2000;
  Index log_every = 0;  // 0: about 50 log points per run
  Index target_every = 0;  // 0: every step to 100, then every step/100 steps (train_run.cc)
  double target_error = 0.25;
  Index eval_batch = 1000;
  bool stop_at_target = false;
  // Long names of the options the user gave (command line or --config): some only make sense
  // with some data, and --classes / --input-dim must then agree with a CSV file.
  std::vector<std::string> given;

  bool was_given(std::string_view name) const;
  std::vector<double> learning_rates() const;  // lrs, or {optimizer.lr}
  std::string speedup_reference() const;       // the activation speed-ups are measured against
  Index resolved_log_every() const;
  FeatureScaling scaling() const;
};


// Checks what single flags cannot (against each other and the data); throws UsageError.
void validate(const TrainConfig& c, const Dataset& d);
// The dataset the config names: generated or read, split, scaled.
Dataset load_dataset(const TrainConfig& c);
// The network of one run.
NetworkSpec train_network_spec(const TrainConfig& c, const Dataset& d, const Activation& act, std::uint64_t seed);
// Bytes one run needs (parameters, gradient, optimiser state, activations of three batches).
std::uint64_t estimate_train_bytes(const TrainConfig& c, const Dataset& d);

}  // namespace gf
