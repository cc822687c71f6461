#pragma once
// One training run: a network, its optimiser and its mini-batch order, stepped --steps times
// with a LogRecord every --log-every steps. A run that overflows stops itself and says where;
// Ctrl-C stops it after the step in hand.
#include "train/dataset.h"
#include "train/train_config.h"
#include "train/train_record.h"

namespace gf {

// Called from the worker threads that run training; implementations serialise themselves.
struct TrainObserver {
  virtual ~TrainObserver() = default;
  virtual void on_log(const TrainRun&, const LogRecord&) {}
  virtual void on_end(const TrainRun&) {}
};

// Fills run.log, end, steps_done, steps_to_target, divergence and timings (run.activation,
// seed and init are the caller's). `threads` split each product (parallel.h).
void train_one(const TrainConfig& c, const Dataset& d, const NetworkSpec& spec, int threads, TrainRun& run,
               TrainObserver* observer);

}  // namespace gf
