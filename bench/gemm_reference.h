#pragma once
// The yardstick of target 1: how fast the GEMM library itself runs one dense layer's three
// products (forward h = a W^T; weight gradient dW^T = a^T dh; input gradient da = dh W), f32, on
// the same shapes and thread count as the analysis. Built as a shared library with hidden
// symbols (bench/CMakeLists.txt): it lets Eigen thread its own products, which gradflow_core
// forbids, and its Eigen instantiations must not be merged with gradflow_core's.
#ifdef __cplusplus
extern "C" {
#endif

enum GemmReferenceMode {
  kGemmEigenParallel = 0,  // Eigen's own product on whole matrices, Eigen::setNbThreads(threads)
  kGemmEigenBlocks = 1,    // gradflow's fixed 64-column blocks over OpenMP, Eigen single-threaded inside
  kGemmOpenBlas = 2,       // OpenBLAS cblas_sgemm on whole matrices with `threads` threads
  kGemmOpenBlasBlocks = 3  // OpenBLAS single-threaded inside gradflow's blocks
};

// 1 when the library was built with OpenBLAS (modes 2 and 3), else 0.
__attribute__((visibility("default"))) int gemm_reference_has_openblas(void);

// Seconds taken by `calls` consecutive calls of the three products for one layer of
// (batch, n_in -> n_out), after one untimed call; < 0 if the mode is unavailable.
__attribute__((visibility("default"))) double gemm_reference_seconds(int mode, long batch, long n_in,
                                                                     long n_out, int threads,
                                                                     int calls);

#ifdef __cplusplus
}
#endif
