#include "train.h"

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

  std::vector<NetworkSpec> specs;
  for (std::uint64_t seed : c.seeds)
    for (const std::string& name : c.net.activations) {
      const Activation& act = *find_activation(name);
      specs.push_back(train_network_spec(c, d, act, seed));
      TrainRun run;
      run.activation = name;
      run.seed = seed;
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
        train_one(c, d, specs[static_cast<std::size_t>(i)], per_run, result.runs[static_cast<std::size_t>(i)],
                  observer);
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
  set_speedups(result.runs);
  result.aggregate = aggregate_runs(result.runs, c.net.activations);
  return result;
}

}  // namespace gf
