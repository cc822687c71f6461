#include "seed_stats.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "errors.h"
#include "interrupt.h"
#include "metrics.h"
#include "run_pool.h"

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

namespace {

std::uint64_t parse_seed(std::string_view s, const std::string& whole) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    throw UsageError(fmt::format("--seed: '{}' is not allowed: give a whole number N, a range A:B "
                                 "(A <= B, both included) or a list N,M,...",
                                 whole));
  return v;
}

}  // namespace

std::vector<std::uint64_t> parse_seeds(const std::string& text) {
  std::vector<std::uint64_t> seeds;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = std::string_view(text).substr(start, comma - start);
    if (const std::size_t colon = item.find(':'); colon != item.npos) {
      const std::size_t colon2 = item.find(':', colon + 1);
      const std::uint64_t a = parse_seed(item.substr(0, colon), text);
      const std::uint64_t b = parse_seed(item.substr(colon + 1, colon2 == item.npos ? item.npos : colon2 - colon - 1), text);
      const std::uint64_t step = colon2 == item.npos ? 1 : parse_seed(item.substr(colon2 + 1), text);
      if (a > b) throw UsageError(fmt::format("--seed: '{}': the range {}:{} is empty; give A <= B", text, a, b));
      if (step == 0) throw UsageError(fmt::format("--seed: '{}': the step of {} is 0; give a positive step", text, item));
      if ((b - a) / step >= 10000)
        throw UsageError(fmt::format("--seed: '{}': {} seeds is too many; give at most 10000", text, (b - a) / step + 1));
      for (std::uint64_t s = a;; s += step) {
        seeds.push_back(s);
        if (b - s < step) break;  // the next would pass b (or wrap)
      }
    } else {
      seeds.push_back(parse_seed(item, text));
    }
    start = comma + 1;
  }
  std::vector<std::uint64_t> sorted = seeds;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw UsageError(fmt::format("--seed: '{}': a seed appears twice; each seed runs once", text));
  return seeds;
}

std::string seeds_text(const std::vector<std::uint64_t>& seeds) {
  bool consecutive = seeds.size() > 2;
  for (std::size_t i = 1; i < seeds.size(); ++i) consecutive = consecutive && seeds[i] == seeds[i - 1] + 1;
  if (consecutive) return fmt::format("{}:{}", seeds.front(), seeds.back());
  return fmt::format("{}", fmt::join(seeds, ","));
}

}  // namespace gf
