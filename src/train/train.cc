#include "train/train.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace gf {

TrainResult run_training(const TrainConfig& c, const Dataset& d, TrainObserver* observer) {
  validate(c, d);
  TrainResult result;
  result.config = c;
  result.data = {d.name, d.features, d.classes, d.n_train(), d.n_test(), d.feature_names, d.class_names};

  // One config per learning rate; each (seed, lr) trains every activation on the same draws.
  const std::vector<double> lrs = c.learning_rates();
  std::vector<TrainConfig> per_lr(lrs.size(), c);
  for (std::size_t k = 0; k < lrs.size(); ++k) per_lr[k].optimizer.lr = lrs[k];
  std::vector<NetworkSpec> specs;
  std::vector<const TrainConfig*> configs;
  for (std::uint64_t seed : c.seeds)
    for (std::size_t k = 0; k < lrs.size(); ++k)
      for (const std::string& name : c.net.activations) {
        const Activation& act = *find_activation(name);
        specs.push_back(train_network_spec(c, d, act, seed));
        configs.push_back(&per_lr[k]);
        TrainRun run;
        run.activation = name;
        run.seed = seed;
        run.lr = lrs[k];
        run.lr_in_label = lrs.size() > 1;
        run.init = specs.back().weight_init.label;
        result.runs.push_back(std::move(run));
      }

  const int threads = c.net.thread_count();
  const int runs = static_cast<int>(result.runs.size());
  const int workers = std::min(threads, runs), per_run = std::max(1, threads / runs);
  std::atomic<int> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (int i = next++; i < runs; i = next++) {
      try {
        train_one(*configs[static_cast<std::size_t>(i)], d, specs[static_cast<std::size_t>(i)], per_run,
                  result.runs[static_cast<std::size_t>(i)], observer);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = runs;  // start no more runs
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  const bool with_seed = result.several_seeds();
  for (TrainRun& r : result.runs) {
    summarize_run(r, c, d.features, with_seed);
    result.interrupted = result.interrupted || r.end == RunEnd::interrupted;
  }
  set_speedups(result.runs, c.speedup_reference());
  result.aggregate = aggregate_runs(result.runs, c.net.activations, lrs);
  if (lrs.size() > 1) result.best = best_rates(result.aggregate, result.runs, c.speedup_reference());
  return result;
}

}  // namespace gf
