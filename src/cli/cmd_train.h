#pragma once
// `gradflow train`: train the same network with several activations (and seeds) side by side
// on one dataset, and watch how gradient flow, saturation and dead units change as it learns.
#include "config/cli_fwd.h"
#include <string>
#include <vector>

#include "base/terminal.h"
#include "train/train_config.h"

namespace gf {

struct TrainOptions {
  TrainConfig config;
  std::string seeds = "0";  // --seed: N, A:B, or a list of those
  std::string config_file;
  std::string format = "table";
  std::string output = "-";
  std::string trace;
  std::string plot;
  ColorMode color = ColorMode::automatic;
  bool timings = false;
  const CLI::App* command = nullptr;  // set by setup_train: which options were given

  TrainOptions();  // train's defaults: a small net, a mini-batch, three spiral arms
};

CLI::App* setup_train(CLI::App& app, TrainOptions& o);
int run_train(const TrainOptions& o);

}  // namespace gf
