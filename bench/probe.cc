// gradflow_probe: the measurements behind bench/targets, each printed as one JSON object.
//   efficiency  target 1: the analysis' FLOP rate over the fastest GEMM's on the same shapes
//               (Eigen, serial OpenBLAS or serial BLIS, whichever measured fastest, named),
//               for the first run of a fresh process (cold: its memory is new pages the kernel
//               must fault in and zero) and for a run after others (warm: as the second
//               activation of `analyze`, or a sweep's runs)
//   once        one analysis run, timed, in this fresh process (what `efficiency` spawns)
//   idle        a warm run's time after idle pauses of 0 to 500 ms
//   rng         target 2: N(0,1) f32 samples per second
//   gemm        the GEMM libraries side by side (Eigen, serial OpenBLAS, serial BLIS)
// Every figure is a ratio measured within one process, repetitions interleaved, medians.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/build_info.h"
#include "base/thread_team.h"
#include "base/timing.h"
#include "core/analysis.h"
#include "core/rng.h"
#include "gemm_reference.h"

using namespace gf;
using json = nlohmann::ordered_json;

namespace {

int all_cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

double median(std::vector<double> v) { return quartiles_of(std::move(v)).median; }

// Seconds for the three products of every layer of the config's network, as the library does
// them (layers of one shape in one call: the library's warm-up is not timed).
double reference_seconds(int mode, const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  double total = 0;
  for (std::size_t l = 1; l < w.size();) {
    std::size_t same = 1;
    while (l + same < w.size() && w[l + same] == w[l] && w[l + same - 1] == w[l - 1]) ++same;
    const double s = gemm_reference_seconds(mode, static_cast<long>(c.batch), static_cast<long>(w[l - 1]),
                                            static_cast<long>(w[l]), c.thread_count(), static_cast<int>(same));
    if (s < 0) return -1;
    total += s;
    l += same;
  }
  return total;
}

AnalysisConfig analysis_config(const std::string& activation, Index depth, Index width, Index batch,
                               int threads, const std::string& weights) {
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
  return c;
}

// The reference's blocked GEMMs run on the engine's own team, one pool for both: with OpenMP
// under the references, the engine's idle worker and OpenMP's spinning threads competed for the
// cores, and the figures depended on which ran last (docs/performance.md, stop 30).
void share_threads_with_reference() {
  gemm_reference_use_threads(
      [](long items, int threads, void* context, GemmTask task) {
        parallel_for(items, threads, [&](std::ptrdiff_t i) { task(context, static_cast<long>(i)); });
      },
      [] { return team_thread_index(); });
}

// Before each timed measurement, a pause in which this process' idle threads stop competing for
// the cores: Eigen's own threaded product (eigen_parallel) runs on OpenMP, whose idle threads spin
// for milliseconds after a loop (libgomp's GOMP_SPINCOUNT; a run timed right after one competed
// with them: warm d20 figures of 0.40 beside 0.71 in one series), and the team's idle worker stays
// runnable, yielding, for kSpinMicroseconds (thread_team.h): a fresh process started 50 ms after
// the team's last loop shared the cores with it (cold d20 figures of 0.24 against 0.35, stop 30),
// and so would an OpenMP product.
void settle() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50) + std::chrono::microseconds(kSpinMicroseconds));
}

// The process starts, then the clock: process start is excluded, its first run's memory is not.
int once(const AnalysisConfig& c) {
  const Activation& act = *find_activation(c.activations[0]);
  std::printf("%.9f\n", time_once([&] { run_one(c, act); }));
  return 0;
}

double spawn_once(const AnalysisConfig& c) {
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) throw std::runtime_error("cannot find /proc/self/exe");
  exe[len] = 0;
  // A gradflow built with -DGRADFLOW_OPENBLAS=ON and Debian's threaded OpenBLAS would start
  // OpenBLAS's threads with the process, to compete with the analysis' own for the cores (a
  // fifth of the first runs took 100 ms longer); `gradflow` asks for one, so does this run.
  const std::string cmd = "OPENBLAS_NUM_THREADS=1 " + std::string(exe) + " once -a " + c.activations[0] + " -d " + std::to_string(c.depth) +
                          " -w " + std::to_string(c.width[0]) + " -b " + std::to_string(c.batch) + " -j " +
                          std::to_string(c.threads) + " --weights " + std::string(weights_mode_name(c.weights));
  FILE* p = popen(cmd.c_str(), "r");
  double seconds = -1;
  if (!p || std::fscanf(p, "%lf", &seconds) != 1) throw std::runtime_error("failed: " + cmd);
  pclose(p);
  return seconds;
}

// Every GEMM mode that is available here, with its medians over the repetitions.
struct GemmModes {
  std::vector<int> modes;
  std::vector<std::vector<double>> seconds;  // per mode, per repetition
  GemmModes() {
    for (int m = 0; m < kGemmModes; ++m)
      if (gemm_reference_seconds(m, 8, 8, 8, 1, 1) >= 0) modes.push_back(m);
    seconds.resize(modes.size());
  }
  // The reference: the mode with the smallest median.
  std::size_t best() const {
    std::size_t b = 0;
    for (std::size_t i = 1; i < modes.size(); ++i)
      if (median(seconds[i]) < median(seconds[b])) b = i;
    return b;
  }
  json describe(double flops) const {
    json out = json::object();
    for (std::size_t i = 0; i < modes.size(); ++i)
      out[gemm_reference_name(modes[i])] = {{"gflops", flops / median(seconds[i]) / 1e9},
                                            {"library", gemm_reference_library(modes[i])},
                                            {"seconds", seconds[i]}};
    return out;
  }
};

int efficiency(const AnalysisConfig& c, int repeat) {
  const Activation& act = *find_activation(c.activations[0]);
  double flops = 0;
  const std::vector<Index> w = c.widths();
  for (std::size_t l = 1; l < w.size(); ++l)
    flops += 6.0 * static_cast<double>(w[l]) * static_cast<double>(w[l - 1]) * static_cast<double>(c.batch);

  GemmModes gemm;
  std::vector<double> cold, warm;
  for (int r = 0; r < repeat; ++r) {  // interleaved, so a noisy moment hits every figure alike
    settle();
    cold.push_back(spawn_once(c));
    // Warm: the run right after another, as the second activation of `analyze` or a sweep's next
    // run follows the one before, and as each reference is timed after an untimed call of its
    // own (`idle` measures what a pause before it would cost).
    run_one(c, act);
    warm.push_back(time_once([&] { run_one(c, act); }));
    for (std::size_t i = 0; i < gemm.modes.size(); ++i) {
      settle();
      gemm.seconds[i].push_back(reference_seconds(gemm.modes[i], c));
    }
  }
  const double t_c = median(cold), t_w = median(warm);
  // The reference: the fastest GEMM on these shapes, whichever library and threading that is.
  const std::size_t best = gemm.best();
  const double t_ref = median(gemm.seconds[best]);
  json out{{"measure", "efficiency"},
           {"activation", c.activations[0]},
           {"depth", c.depth},
           {"width", c.width[0]},
           {"batch", c.batch},
           {"threads", c.thread_count()},
           {"weights", weights_mode_name(c.weights)},
           {"repeat", repeat},
           {"gflop", flops / 1e9},
           {"gradflow_gemm", gemm_text()},
           {"cold_s", cold},
           {"warm_s", warm},
           {"cold_gflops", flops / t_c / 1e9},
           {"warm_gflops", flops / t_w / 1e9},
           {"gemm", gemm.describe(flops)},
           {"reference", gemm_reference_name(gemm.modes[best])},
           {"reference_library", gemm_reference_library(gemm.modes[best])},
           {"reference_gflops", flops / t_ref / 1e9},
           {"efficiency_cold", t_ref / t_c},
           {"efficiency_warm", t_ref / t_w}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// What an idle moment costs the next run: a warm run's seconds after pauses of each length,
// interleaved. The team's idle worker keeps its core for kPauseMicroseconds, yields it between
// looks until kSpinMicroseconds, then sleeps (thread_team.h).
int idle(const AnalysisConfig& c, int repeat) {
  const Activation& act = *find_activation(c.activations[0]);
  const std::vector<int> pauses_ms = {0, 1, 20, 50, 150, 500};
  std::vector<std::vector<double>> seconds(pauses_ms.size());
  run_one(c, act);
  for (int r = 0; r < repeat; ++r)
    for (std::size_t i = 0; i < pauses_ms.size(); ++i) {
      run_one(c, act);
      std::this_thread::sleep_for(std::chrono::milliseconds(pauses_ms[i]));
      seconds[i].push_back(time_once([&] { run_one(c, act); }));
    }
  json out{{"measure", "idle"}, {"activation", c.activations[0]}, {"depth", c.depth}, {"width", c.width[0]},
           {"batch", c.batch}, {"threads", c.thread_count()}, {"repeat", repeat}, {"spin_us", kSpinMicroseconds},
           {"runs", json::array()}};
  for (std::size_t i = 0; i < pauses_ms.size(); ++i)
    out["runs"].push_back({{"pause_ms", pauses_ms[i]}, {"median_s", median(seconds[i])}, {"seconds", seconds[i]}});
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
  GemmModes gemm;
  for (int r = 0; r < repeat; ++r)
    for (std::size_t i = 0; i < gemm.modes.size(); ++i) {
      settle();
      gemm.seconds[i].push_back(gemm_reference_seconds(gemm.modes[i], batch, width, width, threads, calls));
    }
  json out{{"measure", "gemm"}, {"batch", batch}, {"width", width}, {"threads", threads}, {"repeat", repeat},
           {"gemm", gemm.describe(flops)}, {"fastest", gemm_reference_name(gemm.modes[gemm.best()])}};
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
  CLI::App* one = app.add_subcommand("once", "One analysis run in this fresh process: prints its seconds");
  CLI::App* pause = app.add_subcommand("idle", "A warm run's seconds after idle pauses of 0 to 500 ms");
  for (CLI::App* cmd : {eff, one, pause}) {
    cmd->add_option("-a,--activation", activation)->capture_default_str();
    cmd->add_option("-d,--depth", depth)->capture_default_str();
    cmd->add_option("-w,--width", width)->capture_default_str();
    cmd->add_option("-b,--batch", batch)->capture_default_str();
    cmd->add_option("-j,--threads", threads)->capture_default_str();
    cmd->add_option("--weights", weights)->check(CLI::IsMember({"auto", "store", "regenerate"}))->capture_default_str();
  }
  for (CLI::App* cmd : {eff, pause}) cmd->add_option("--repeat", repeat)->capture_default_str();

  CLI::App* r = app.add_subcommand("rng", "Target 2: N(0,1) f32 samples per second");
  r->add_option("-j,--threads", threads)->capture_default_str();
  r->add_option("--samples", samples)->capture_default_str();
  r->add_option("--repeat", repeat)->capture_default_str();

  CLI::App* g = app.add_subcommand("gemm", "GEMM libraries side by side on one layer's three products");
  g->add_option("-b,--batch", batch)->capture_default_str();
  g->add_option("-w,--width", width)->capture_default_str();
  g->add_option("-j,--threads", threads)->check(CLI::Range(1, 4096))->capture_default_str();
  g->add_option("--calls", calls)->capture_default_str();
  g->add_option("--repeat", repeat)->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  share_threads_with_reference();
  if (eff->parsed() || one->parsed() || pause->parsed()) {
    const AnalysisConfig c = analysis_config(activation, depth, width, batch, threads, weights);
    return eff->parsed() ? efficiency(c, repeat) : pause->parsed() ? idle(c, repeat) : once(c);
  }
  if (r->parsed()) return rng(threads, samples, repeat);
  return gemm(batch, width, threads, calls, repeat);
}
