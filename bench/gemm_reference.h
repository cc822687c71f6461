#pragma once
// The yardstick of target 1: how fast a GEMM library runs one dense layer's three products
// (forward h = a W^T; weight gradient dW^T = a^T dh; input gradient da = dh W), f32, on the same
// shapes and thread count as the analysis. The libraries: Eigen (compiled in), and the serial
// builds of OpenBLAS and BLIS from Debian (libopenblas0-serial, libblis4-serial), each opened at
// run time with dlopen(RTLD_LOCAL), so both can be measured in one process although they export
// the same cblas_sgemm, and a missing one is reported rather than failing the build. Built as a
// shared library with hidden symbols (bench/CMakeLists.txt): it lets Eigen thread its own
// products, which gradflow_core forbids, and its Eigen must not be merged with gradflow_core's.
#ifdef __cplusplus
extern "C" {
#endif

enum GemmReferenceMode {
  kGemmEigenParallel = 0,  // Eigen's own product on whole matrices, Eigen::setNbThreads(threads)
  kGemmEigenBlocks = 1,    // gradflow's fixed blocks, one call per group of them as the engine makes
                           // (src/base/blocks.h), on the caller's threads (below), Eigen
                           // single-threaded inside
  kGemmOpenBlasBlocks = 2, // serial OpenBLAS's cblas_sgemm inside gradflow's blocks
  kGemmBlisBlocks = 3,     // serial BLIS's cblas_sgemm inside gradflow's blocks
  kGemmModes = 4
};

// The threads the block modes run on: the probe hands in gradflow's own team (base/thread_team.h),
// so that the engine and its yardstick share one pool of threads. With two pools (the engine's
// team and OpenMP's), each one's idle threads compete with the other's working ones for the
// cores, and whichever ran second measured slower. Until this is called, the block modes run on
// one thread.
typedef void (*GemmTask)(void* context, long item);
typedef void (*GemmParallelFor)(long items, int threads, void* context, GemmTask task);
__attribute__((visibility("default"))) void gemm_reference_use_threads(GemmParallelFor parallel_for,
                                                                       int (*thread_index)(void));

// A short name of the mode ("eigen_parallel", "openblas_blocks", ...).
__attribute__((visibility("default"))) const char* gemm_reference_name(int mode);
// What the mode runs: library, version and the kernels it chose for this CPU (OpenBLAS's
// openblas_get_corename, BLIS's bli_arch_string), or why it is unavailable.
__attribute__((visibility("default"))) const char* gemm_reference_library(int mode);

// Seconds taken by `calls` consecutive calls of the three products for one layer of
// (batch, n_in -> n_out), after one untimed call; < 0 if the mode is unavailable.
__attribute__((visibility("default"))) double gemm_reference_seconds(int mode, long batch, long n_in,
                                                                     long n_out, int threads,
                                                                     int calls);

#ifdef __cplusplus
}
#endif
