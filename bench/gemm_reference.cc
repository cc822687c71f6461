// See gemm_reference.h. Compiled WITHOUT EIGEN_DONT_PARALLELIZE, with hidden visibility.
#include "gemm_reference.h"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <omp.h>

#ifdef GRADFLOW_HAVE_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr long kBlockCols = 64;  // as src/parallel.h

struct Layer {
  Mat a, h, dh, da, dWt;  // a (B, n_in), h and dh (B, n_out), da (B, n_in), dW^T (n_in, n_out)
  RowMat W;               // (n_out, n_in)
  std::vector<Mat> scratch;  // per thread: one block of dW^T, as the engine forms it
  Layer(long B, long n_in, long n_out, int threads)
      : a(Mat::Random(B, n_in)), h(B, n_out), dh(Mat::Random(B, n_out)), da(B, n_in),
        dWt(n_in, n_out), W(RowMat::Random(n_out, n_in)), scratch(threads, Mat(n_in, kBlockCols)) {}
};

template <class F>
void for_blocks(long n, int threads, F&& f) {
  const long blocks = (n + kBlockCols - 1) / kBlockCols;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (long b = 0; b < blocks; ++b) f(b * kBlockCols, std::min(kBlockCols, n - b * kBlockCols));
}

void eigen_parallel(Layer& L, int threads) {
  Eigen::setNbThreads(threads);
  L.h.noalias() = L.a * L.W.transpose();
  L.dWt.noalias() = L.a.transpose() * L.dh;
  L.da.noalias() = L.dh * L.W;
}

void eigen_blocks(Layer& L, int threads) {
  const long n_out = L.h.cols(), n_in = L.a.cols();
  for_blocks(n_out, threads, [&](long c0, long cols) {
    L.h.middleCols(c0, cols).noalias() = L.a * L.W.middleRows(c0, cols).transpose();
  });
  for_blocks(n_out, threads, [&](long c0, long cols) {
    L.scratch[omp_get_thread_num()].leftCols(cols).noalias() = L.a.transpose() * L.dh.middleCols(c0, cols);
  });
  for_blocks(n_in, threads, [&](long c0, long cols) {
    L.da.middleCols(c0, cols).noalias() = L.dh * L.W.middleCols(c0, cols);
  });
}

#ifdef GRADFLOW_HAVE_OPENBLAS
// Column-major throughout: W row-major (n_out, n_in) is W^T column-major (n_in, n_out).
void blas_products(Layer& L, long c0, long cols, long i0, long icols, float* dWt_block) {
  const int B = static_cast<int>(L.a.rows()), n_in = static_cast<int>(L.a.cols()),
            n_out = static_cast<int>(L.h.cols());
  if (cols > 0) {
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, B, cols, n_in, 1.f, L.a.data(), B,
                L.W.data() + c0 * n_in, n_in, 0.f, L.h.data() + c0 * B, B);
    cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, n_in, cols, B, 1.f, L.a.data(), B,
                L.dh.data() + c0 * B, B, 0.f, dWt_block, n_in);
  }
  if (icols > 0)  // da[:, i0:] = dh W[:, i0:]; W[:, i0:] is rows i0.. of W^T (n_in, n_out)
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, B, icols, n_out, 1.f, L.dh.data(), B,
                L.W.data() + i0, n_in, 0.f, L.da.data() + i0 * B, B);
}

void openblas_whole(Layer& L, int threads) {
  openblas_set_num_threads(threads);
  blas_products(L, 0, L.h.cols(), 0, L.a.cols(), L.dWt.data());
  openblas_set_num_threads(1);  // as gradflow_core keeps it, in the same process
}

void openblas_blocks(Layer& L, int threads) {
  openblas_set_num_threads(1);
  const long n_out = L.h.cols(), n_in = L.a.cols();
  for_blocks(n_out, threads, [&](long c0, long cols) {
    blas_products(L, c0, cols, 0, 0, L.scratch[omp_get_thread_num()].data());
  });
  for_blocks(n_in, threads, [&](long c0, long cols) {
    blas_products(L, 0, 0, c0, cols, nullptr);
  });
}
#endif

}  // namespace

extern "C" int gemm_reference_has_openblas(void) {
#ifdef GRADFLOW_HAVE_OPENBLAS
  return 1;
#else
  return 0;
#endif
}

extern "C" double gemm_reference_seconds(int mode, long batch, long n_in, long n_out, int threads,
                                         int calls) {
  void (*run)(Layer&, int) = nullptr;
  switch (mode) {
    case kGemmEigenParallel: run = eigen_parallel; break;
    case kGemmEigenBlocks: run = eigen_blocks; break;
#ifdef GRADFLOW_HAVE_OPENBLAS
    case kGemmOpenBlas: run = openblas_whole; break;
    case kGemmOpenBlasBlocks: run = openblas_blocks; break;
#endif
    default: return -1;
  }
  Layer L(batch, n_in, n_out, threads);
  run(L, threads);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) run(L, threads);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
