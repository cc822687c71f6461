#pragma once
// What an activation costs, timed with the kernels `analyze` runs: over a large array (phi alone,
// and phi with phi'), then inside one dense layer next to its matrix product, to show how small
// the activation's share is ("the exp is a minor cost next to the dot products").
// `gradflow bench` prints this; bench/ has the micro-benchmarks.
#include <string>
#include <vector>

#include "base/tensor.h"
#include "base/timing.h"

namespace gf {

struct ActivationBenchConfig {
  std::vector<std::string> activations;  // empty: every activation
  Dtype dtype = Dtype::f32;
  Index size = Index{1} << 20;  // elements of the array pass
  int repeat = 15;              // timed repetitions, after one warm-up
  Index layer_batch = 256;      // the dense layer: (B, n) = (B, n) W^T, W (n, n)
  Index layer_width = 1024;
  int threads = 1;              // for the dense layer (0: every core)
  double leaky_slope = 0.01;
};

struct PassTiming {
  Quartiles ns_per_element;     // over the repetitions
  double g_elements_per_s = 0;  // at the median
  double ratio_to_relu = 0;     // median / relu's median
};

struct ActivationTiming {
  std::string activation;
  PassTiming forward;             // a = phi(h)
  PassTiming forward_derivative;  // a = phi(h), d = phi'(h): analyze's forward kernel
};

struct LayerTiming {
  std::string activation;
  Quartiles layer_ms;       // layer_forward_group over every group of blocks: GEMM, bias, phi and phi', statistics
  Quartiles gemm_ms;        // the same groups' matrix products alone
  Quartiles activation_ms;  // the same blocks' phi and phi' kernel alone
  double gemm_share = 0, activation_share = 0;  // of the layer's median time
  double gemm_gflops = 0;                        // 2 B n^2 / median GEMM time
};

struct ActivationBenchResult {
  ActivationBenchConfig config;  // as run: activations filled in, threads resolved
  std::vector<ActivationTiming> arrays;  // in the requested order
  std::vector<LayerTiming> layers;
};

// Times every requested activation (and relu, the reference, even if not requested).
ActivationBenchResult run_activation_bench(ActivationBenchConfig c);

}  // namespace gf
