// Micro-benchmarks of the kernels analyze spends its time in, next to raw Eigen products of the
// same shapes. Run: build/bench/gradflow_microbench [--benchmark_filter=REGEX].
// Shapes: batch 256, width 1024 (target 1's large network), blocks of 64 units as src/base/parallel.h.
#include <benchmark/benchmark.h>

#include <vector>

#include "base/parallel.h"
#include "core/activation.h"
#include "core/analysis.h"
#include "core/layer.h"
#include "core/rng.h"
#include "core/stats.h"

using namespace gf;

namespace {

constexpr Index kB = 256, kN = 1024, kCols = kBlockCols;

Mat<float> normal_mat(Index rows, Index cols, std::uint32_t which, float scale = 1) {
  Mat<float> m(rows, cols);
  fill_normal<float>({0, Stream::bench, which}, 0, m.data(), static_cast<std::size_t>(m.size()), scale);
  return m;
}

RowMat<float> weights() {
  RowMat<float> W(kN, kN);
  fill_normal<float>({0, Stream::bench, 9}, 0, W.data(), static_cast<std::size_t>(W.size()), 1.0f / 32);
  return W;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

// --- random numbers -------------------------------------------------------------------------

void BM_FillNormal(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::vector<float> out(n);
  for (auto _ : state) {
    fill_normal_parallel<float>({1, Stream::weights, 1}, 0, out.data(), n, 1.0f, threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_FillNormal)->Args({1 << 20, 1})->Args({1 << 24, 1})->Args({1 << 24, 2})->UseRealTime();

void BM_FillUniform(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> out(n);
  for (auto _ : state) {
    fill_uniform<float>({1, Stream::weights, 1}, 0, out.data(), n, -1.0f, 1.0f);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_FillUniform)->Arg(1 << 20);

// --- activations: phi alone, and phi with phi' (analyze's kernel), 2^20 elements -------------

void BM_Activation(benchmark::State& state, const Activation* act, bool derivative) {
  const Index n = Index{1} << 20;
  const Mat<float> h = normal_mat(n, 1, 1, 2.0f);
  Mat<float> a(n, 1), d(n, 1);
  for (auto _ : state) {
    if (derivative) act->kernels<float>().phi_and_slope(h.data(), a.data(), d.data(), n, 0.01);
    else act->kernels<float>().phi(h.data(), a.data(), n, 0.01);
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(d.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// --- one block of a dense layer (B 256, 1024 -> 64 units), and Eigen's bare products ----------

void BM_LayerForwardBlock(benchmark::State& state, const Activation* act) {
  const Mat<float> a_prev = normal_mat(kB, kN, 1);
  const RowMat<float> W = weights();
  const Vec<float> b = Vec<float>::Zero(kCols);
  Mat<float> h_d(kB, kCols), a(kB, kCols);
  for (auto _ : state) {
    benchmark::DoNotOptimize(layer_forward_block<float>(*act, 0.01, saturation_test(*act, 0.01, 0.1, std::nullopt), a_prev, W.topRows(kCols), b, h_d, a));
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}

void BM_GemmForward(benchmark::State& state) {  // h = a_prev W_rows^T
  const Mat<float> a_prev = normal_mat(kB, kN, 1);
  const RowMat<float> W = weights();
  Mat<float> h(kB, kCols);
  for (auto _ : state) {
    h.noalias() = a_prev * W.topRows(kCols).transpose();
    benchmark::DoNotOptimize(h.data());
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}
BENCHMARK(BM_GemmForward);

void BM_PreactGradBlock(benchmark::State& state) {
  const Mat<float> d_a = normal_mat(kB, kCols, 2), d = normal_mat(kB, kCols, 3);
  Mat<float> d_h(kB, kCols);
  for (auto _ : state) benchmark::DoNotOptimize(preact_grad_block<float>(d_a, d, d_h));
  state.SetItemsProcessed(state.iterations() * kB * kCols);
}
BENCHMARK(BM_PreactGradBlock);

void BM_WeightGradBlock(benchmark::State& state) {
  const Mat<float> a_prev = normal_mat(kB, kN, 1), d_h = normal_mat(kB, kCols, 4);
  Mat<float> scratch(kN, kCols);
  for (auto _ : state) {
    weight_grad_block<float>(a_prev, d_h, scratch);
    benchmark::DoNotOptimize(scratch.data());
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}
BENCHMARK(BM_WeightGradBlock);

void BM_GemmWeightGrad(benchmark::State& state) {  // d W^T block = a_prev^T d_h
  const Mat<float> a_prev = normal_mat(kB, kN, 1), d_h = normal_mat(kB, kCols, 4);
  Mat<float> scratch(kN, kCols);
  for (auto _ : state) {
    scratch.noalias() = a_prev.transpose() * d_h;
    benchmark::DoNotOptimize(scratch.data());
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}
BENCHMARK(BM_GemmWeightGrad);

void BM_InputGradBlock(benchmark::State& state) {
  const Mat<float> d_h = normal_mat(kB, kN, 5);
  const RowMat<float> W = weights();
  Mat<float> d_a(kB, kCols);
  for (auto _ : state) {
    input_grad_block<float>(d_h, W.leftCols(kCols), 0.5f, d_a);
    benchmark::DoNotOptimize(d_a.data());
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}
BENCHMARK(BM_InputGradBlock);

void BM_GemmInputGrad(benchmark::State& state) {  // d_a block = d_h W_cols
  const Mat<float> d_h = normal_mat(kB, kN, 5);
  const RowMat<float> W = weights();
  Mat<float> d_a(kB, kCols);
  for (auto _ : state) {
    d_a.noalias() = d_h * W.leftCols(kCols);
    benchmark::DoNotOptimize(d_a.data());
  }
  set_flops(state, 2.0 * kB * kN * kCols);
}
BENCHMARK(BM_GemmInputGrad);

void BM_Moments(benchmark::State& state) {
  const Mat<float> x = normal_mat(kB, kCols, 6);
  for (auto _ : state) benchmark::DoNotOptimize(moments_of<float>(x.data(), x.size()));
  state.SetItemsProcessed(state.iterations() * x.size());
}
BENCHMARK(BM_Moments);

// --- a whole analysis run (target 1's small network), one thread and all ----------------------

void BM_RunOne(benchmark::State& state, const char* activation) {
  AnalysisConfig c;
  c.depth = 20;
  c.width = {256};
  c.batch = 256;
  c.threads = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(run_one(c, *find_activation(activation)));
  set_flops(state, 6.0 * 20 * 256 * 256 * 256);
}

// Registered from main: the activation table is another file's static, not ready at static
// initialisation time.
void register_table_benchmarks() {
  for (const Activation& a : activations()) {
    benchmark::RegisterBenchmark(("BM_Activation_phi_" + std::string(a.name)).c_str(), BM_Activation, &a, false);
    benchmark::RegisterBenchmark(("BM_Activation_phi_dphi_" + std::string(a.name)).c_str(), BM_Activation, &a, true);
  }
  for (const char* name : {"sigmoid", "tanh", "relu"}) {
    benchmark::RegisterBenchmark((std::string("BM_LayerForwardBlock_") + name).c_str(), BM_LayerForwardBlock,
                                 find_activation(name));
    benchmark::RegisterBenchmark((std::string("BM_RunOne_d20_w256_b256_") + name).c_str(), BM_RunOne, name)
        ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_table_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
