// gradflow_probe: the measurements behind bench/targets, each printed as one JSON object.
//   efficiency  target 1: the analysis' FLOP rate over the GEMM library's on the same shapes
//   rng         target 2: N(0,1) f32 samples per second
//   gemm        the GEMM libraries side by side (the OpenBLAS decision in docs/performance.md)
// Every figure is a ratio measured within one process, repetitions interleaved, medians.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "analysis.h"
#include "gemm_reference.h"
#include "rng.h"
#include "timing.h"

using namespace gf;
using json = nlohmann::ordered_json;

namespace {

int all_cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

double median(std::vector<double> v) { return spread_of(std::move(v)).median; }

// Seconds for the three products of every layer of the config's network, as the library does them.
double reference_seconds(int mode, const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  double total = 0;
  for (std::size_t l = 1; l < w.size(); ++l) {
    const double s = gemm_reference_seconds(mode, static_cast<long>(c.batch), static_cast<long>(w[l - 1]),
                                            static_cast<long>(w[l]), c.thread_count(), 1);
    if (s < 0) return -1;
    total += s;
  }
  return total;
}

int efficiency(const std::string& activation, Index depth, Index width, Index batch, int threads,
               int repeat, const std::string& weights) {
  AnalysisConfig c;
  c.activations = {activation};
  c.depth = depth;
  c.width = {width};
  c.batch = batch;
  c.threads = threads;
  c.weights = weights == "regenerate" ? WeightsMode::regenerate
              : weights == "store"    ? WeightsMode::store
                                      : WeightsMode::automatic;
  validate(c);
  const Activation& act = *find_activation(activation);
  double flops = 0;
  const std::vector<Index> w = c.widths();
  for (std::size_t l = 1; l < w.size(); ++l)
    flops += 6.0 * static_cast<double>(w[l]) * static_cast<double>(w[l - 1]) * static_cast<double>(batch);

  run_one(c, act);  // warm-up: the allocator's arenas, OpenMP's threads, the caches
  std::vector<double> analysis, eigen_parallel, eigen_blocks;
  for (int r = 0; r < repeat; ++r) {
    analysis.push_back(time_once([&] { run_one(c, act); }));
    eigen_parallel.push_back(reference_seconds(kGemmEigenParallel, c));
    eigen_blocks.push_back(reference_seconds(kGemmEigenBlocks, c));
  }
  const double t_a = median(analysis), t_p = median(eigen_parallel), t_b = median(eigen_blocks);
  const double t_ref = std::min(t_p, t_b);  // the library at its best on these shapes
  json out{{"measure", "efficiency"},
           {"activation", activation},
           {"depth", depth},
           {"width", width},
           {"batch", batch},
           {"threads", c.thread_count()},
           {"weights", weights},
           {"repeat", repeat},
           {"gflop", flops / 1e9},
           {"analysis_s", analysis},
           {"eigen_parallel_s", eigen_parallel},
           {"eigen_blocks_s", eigen_blocks},
           {"analysis_gflops", flops / t_a / 1e9},
           {"eigen_parallel_gflops", flops / t_p / 1e9},
           {"eigen_blocks_gflops", flops / t_b / 1e9},
           {"reference_gflops", flops / t_ref / 1e9},
           {"efficiency", t_ref / t_a}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int rng(int threads, std::size_t samples, int repeat) {
  std::vector<float> buffer(samples, 1.0f);  // touched before timing
  const RandomStream s{1, Stream::weights, 1};
  auto rate = [&](int t) {
    std::vector<double> secs;
    fill_normal_parallel<float>(s, 0, buffer.data(), samples, 1.0f, t);
    for (int r = 0; r < repeat; ++r)
      secs.push_back(time_once([&] { fill_normal_parallel<float>(s, 0, buffer.data(), samples, 1.0f, t); }));
    return static_cast<double>(samples) / median(secs);
  };
  const double one = rate(1), many = rate(threads);
  json out{{"measure", "rng"},
           {"threads", threads},
           {"samples", samples},
           {"repeat", repeat},
           {"samples_per_s_1_thread", one},
           {"samples_per_s", many}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int gemm(long batch, long width, int threads, int calls, int repeat) {
  const double flops = 6.0 * static_cast<double>(batch) * static_cast<double>(width) * static_cast<double>(width) * calls;
  json modes = json::object();
  const char* names[] = {"eigen_parallel", "eigen_blocks", "openblas", "openblas_blocks"};
  std::vector<std::vector<double>> secs(4);
  for (int r = 0; r < repeat; ++r)
    for (int m = 0; m < 4; ++m) secs[m].push_back(gemm_reference_seconds(m, batch, width, width, threads, calls));
  for (int m = 0; m < 4; ++m) {
    const double t = median(secs[m]);
    modes[names[m]] = t > 0 ? json(flops / t / 1e9) : json(nullptr);
  }
  json out{{"measure", "gemm"}, {"batch", batch}, {"width", width}, {"threads", threads},
           {"repeat", repeat}, {"gflops", modes}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gradflow_probe: measurements for bench/targets (JSON on stdout)"};
  app.require_subcommand(1);
  std::string activation = "relu", weights = "auto";
  Index depth = 20, width = 256, batch = 256;
  int threads = all_cores(), repeat = 5, calls = 10;
  std::size_t samples = std::size_t{1} << 26;

  CLI::App* eff = app.add_subcommand("efficiency", "Target 1: analysis FLOP rate / GEMM library FLOP rate");
  eff->add_option("-a,--activation", activation)->capture_default_str();
  eff->add_option("-d,--depth", depth)->capture_default_str();
  eff->add_option("-w,--width", width)->capture_default_str();
  eff->add_option("-b,--batch", batch)->capture_default_str();
  eff->add_option("-j,--threads", threads)->capture_default_str();
  eff->add_option("--repeat", repeat)->capture_default_str();
  eff->add_option("--weights", weights)->check(CLI::IsMember({"auto", "store", "regenerate"}))->capture_default_str();

  CLI::App* r = app.add_subcommand("rng", "Target 2: N(0,1) f32 samples per second");
  r->add_option("-j,--threads", threads)->capture_default_str();
  r->add_option("--samples", samples)->capture_default_str();
  r->add_option("--repeat", repeat)->capture_default_str();

  CLI::App* g = app.add_subcommand("gemm", "GEMM libraries side by side on one layer's three products");
  g->add_option("-b,--batch", batch)->capture_default_str();
  g->add_option("-w,--width", width)->capture_default_str();
  g->add_option("-j,--threads", threads)->capture_default_str();
  g->add_option("--calls", calls)->capture_default_str();
  g->add_option("--repeat", repeat)->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (eff->parsed()) return efficiency(activation, depth, width, batch, threads, repeat, weights);
  if (r->parsed()) return rng(threads, samples, repeat);
  return gemm(batch, width, threads, calls, repeat);
}
