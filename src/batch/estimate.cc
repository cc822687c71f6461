#include "batch/estimate.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace gf {
namespace {

double weight_count(const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  double n = static_cast<double>(w.back()) * static_cast<double>(c.classes);
  for (std::size_t l = 1; l < w.size(); ++l) n += static_cast<double>(w[l]) * static_cast<double>(w[l - 1]);
  return n;
}

// The fastest of three runs: the least disturbed by other work on the machine.
double time_run(const AnalysisConfig& c) {
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    run_one(c, *find_activation(c.activations[0]));
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

CostModel calibrate_cost_model() {
  AnalysisConfig c;
  c.activations = {"tanh"};
  c.threads = 1;
  c.depth = 1;
  c.width = {4};
  c.batch = 1;
  c.classes = 2;
  const double t0 = time_run(c);
  c.depth = 4;
  c.width = {128};
  const double t1 = time_run(c);  // batch 1: weight draws dominate
  c.batch = 64;
  const double t2 = time_run(c);  // batch 64: products dominate
  const double W = weight_count(c);
  CostModel m;
  m.per_run = t0;
  m.per_mac = std::max(0.0, (t2 - t1) / (63.0 * W));
  m.per_weight = std::max(0.0, (t1 - t0) / W - m.per_mac);
  return m;
}

double run_seconds(const CostModel& m, const AnalysisConfig& c) {
  const double W = weight_count(c);
  const bool regenerate = choose_regenerate(c, network_spec(c, *find_activation(c.activations[0])));
  const double dtype_factor = c.dtype == Dtype::f64 ? 2.0 : 1.0;
  return m.per_run + m.per_weight * W * (regenerate ? 2.0 : 1.0) +
         m.per_mac * dtype_factor * static_cast<double>(c.batch) * W / std::max(1, c.thread_count());
}

std::uint64_t run_bytes(const AnalysisConfig& c) {
  const NetworkSpec spec = network_spec(c, *find_activation(c.activations[0]));
  return estimate_bytes(spec, c.dtype, choose_regenerate(c, spec));
}

}  // namespace gf
