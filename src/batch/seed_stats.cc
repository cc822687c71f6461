#include "batch/seed_stats.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/errors.h"
#include "base/interrupt.h"
#include "base/run_pool.h"
#include "core/metrics.h"

namespace gf {

SeedStats seed_stats(const std::vector<const RunResult*>& runs) {
  SeedStats s;
  s.activation = runs.front()->activation;
  s.init = runs.front()->init;
  s.runs = runs.size();
  std::vector<double> v(runs.size());
  for (const SummaryMetric& m : summary_metrics()) {
    for (std::size_t k = 0; k < runs.size(); ++k) v[k] = runs[k]->summary.*m.field;
    s.summary.push_back(describe_finite(v));
  }
  const std::size_t depth = runs.front()->pass.layers.size();
  s.layers.resize(depth);
  for (std::size_t l = 0; l < depth; ++l)
    for (const LayerMetric& m : layer_metrics()) {
      for (std::size_t k = 0; k < runs.size(); ++k) v[k] = runs[k]->pass.layers[l].*m.field;
      s.layers[l].push_back(describe_finite(v));
    }
  for (const RunResult* r : runs) {
    s.finite += r->pass.overflow_layer == 0;
    for (const std::string& verdict : r->summary.verdict) {
      const auto it = std::find_if(s.verdicts.begin(), s.verdicts.end(), [&](const auto& p) { return p.first == verdict; });
      if (it == s.verdicts.end()) s.verdicts.emplace_back(verdict, 1);
      else ++it->second;
    }
  }
  return s;
}

SeedAnalysis run_seeds(const AnalysisConfig& c, const std::vector<std::uint64_t>& seeds, int workers,
                       const RunProgress& on_run) {
  validate(c);
  SeedAnalysis out{c, seeds, {}, {}};
  out.config.seed = seeds.front();
  const std::size_t acts = c.activations.size(), jobs = seeds.size() * acts;
  workers = std::max(1, std::min<int>(workers, static_cast<int>(jobs)));
  const int per_run = std::max(1, c.thread_count() / static_cast<int>(jobs));
  out.runs.resize(jobs);
  std::size_t delivered = 0;
  PoolCallbacks cb;
  cb.work = [&](std::size_t k) {
    AnalysisConfig one = c;
    one.seed = seeds[k / acts];
    one.threads = per_run;
    out.runs[k] = run_one(one, *find_activation(c.activations[k % acts]));
  };
  cb.deliver = [&](std::size_t) { ++delivered; };
  cb.tick = [&](std::size_t done) {
    if (on_run) on_run(done, jobs, "");
  };
  if (run_in_order(jobs, workers, cb).interrupted) throw Interrupted();
  for (std::size_t a = 0; a < acts; ++a) {
    std::vector<const RunResult*> runs;
    for (std::size_t s = 0; s < seeds.size(); ++s) runs.push_back(&out.run(s, a));
    out.stats.push_back(seed_stats(runs));
  }
  return out;
}

}  // namespace gf
