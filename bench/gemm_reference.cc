// See gemm_reference.h. Compiled WITHOUT EIGEN_DONT_PARALLELIZE, with hidden visibility.
#include "gemm_reference.h"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>

#include <dlfcn.h>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/blocks.h"

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Layer {
  Mat a, h, dh, da, dWt;  // a (B, n_in), h and dh (B, n_out), da (B, n_in), dW^T (n_in, n_out)
  RowMat W;               // (n_out, n_in)
  std::vector<Mat> scratch;  // per thread: one group of dW^T, as the engine forms it
  Layer(long B, long n_in, long n_out, int threads)
      : a(Mat::Random(B, n_in)), h(B, n_out), dh(Mat::Random(B, n_out)), da(B, n_in),
        dWt(n_in, n_out), W(RowMat::Random(n_out, n_in)), scratch(threads, Mat(n_in, gf::group_cols(n_out))) {}
};

// The threads of the block modes (gemm_reference_use_threads); one thread until it is called.
void serial_for(long items, int, void* context, GemmTask task) {
  for (long i = 0; i < items; ++i) task(context, i);
}
int thread_zero() { return 0; }
GemmParallelFor g_parallel_for = serial_for;
int (*g_thread_index)() = thread_zero;

// f(c0, cols) for each of the engine's product calls over n columns: its groups of blocks, by
// the engine's own rules (src/base/blocks.h), on the threads src/base/parallel.h runs them on.
template <class F>
void for_blocks(long n, int threads, F&& f) {
  const long groups = gf::group_count(n);
  using Context = std::pair<std::remove_reference_t<F>*, long>;
  auto task = [](void* context, long g) {
    auto& [fn, cols] = *static_cast<Context*>(context);
    const gf::BlockGroup b = gf::block_group(g, cols);
    (*fn)(b.c0, b.cols);
  };
  Context context{&f, n};
  g_parallel_for(groups, threads, &context, task);
}

// Eigen threads its own products (OpenMP) unless told not to; inside the blocks it must not, as
// the engine's Eigen does not (it is built with EIGEN_DONT_PARALLELIZE).
void eigen_single_threaded() { Eigen::setNbThreads(1); }

void eigen_parallel(Layer& L, int threads) {
  Eigen::setNbThreads(threads);
  L.h.noalias() = L.a * L.W.transpose();
  L.dWt.noalias() = L.a.transpose() * L.dh;
  L.da.noalias() = L.dh * L.W;
}

void eigen_blocks(Layer& L, int threads) {
  eigen_single_threaded();
  const long n_out = L.h.cols(), n_in = L.a.cols();
  for_blocks(n_out, threads, [&](long c0, long cols) {
    L.h.middleCols(c0, cols).noalias() = L.a * L.W.middleRows(c0, cols).transpose();
  });
  for_blocks(n_out, threads, [&](long c0, long cols) {
    L.scratch[g_thread_index()].leftCols(cols).noalias() = L.a.transpose() * L.dh.middleCols(c0, cols);
  });
  for_blocks(n_in, threads, [&](long c0, long cols) {
    L.da.middleCols(c0, cols).noalias() = L.dh * L.W.middleCols(c0, cols);
  });
}

// A serial BLAS opened at run time. CBLAS's enums are fixed by the standard (cblas.h), so the
// prototype needs neither library's header.
constexpr int kColMajor = 102, kNoTrans = 111, kTrans = 112;
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int,
                            float, float*, int);

struct Blas {
  CblasSgemm sgemm = nullptr;
  std::string library;  // what it is, or why it is missing
};

Blas open_blas(const char* dir, const char* file) {
  Blas b;
  const std::string path = std::string(GRADFLOW_LIBDIR) + "/" + dir + "/" + file;
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    b.library = "unavailable: " + std::string(dlerror());
    return b;
  }
  b.sgemm = reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm"));
  if (auto config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"))) {
    auto core = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
    b.library = std::string(config()) + ", kernels " + (core ? core() : "?");
  } else if (auto version = reinterpret_cast<const char* (*)()>(dlsym(h, "bli_info_get_version_str"))) {
    auto arch_id = reinterpret_cast<int (*)()>(dlsym(h, "bli_arch_query_id"));
    auto arch = reinterpret_cast<const char* (*)(int)>(dlsym(h, "bli_arch_string"));
    b.library = "BLIS " + std::string(version()) + " serial, kernels " +
                (arch_id && arch ? arch(arch_id()) : "?");
  }
  if (!b.sgemm) b.library = "unavailable: no cblas_sgemm in " + path;
  return b;
}

const Blas& openblas() {
  static const Blas b = open_blas("openblas-serial", "libopenblas.so.0");
  return b;
}
const Blas& blis() {
  static const Blas b = open_blas("blis-serial", "libblis.so.4");
  return b;
}

// One group's products, as gradflow forms them. Column-major throughout: W row-major
// (n_out, n_in) is W^T column-major (n_in, n_out).
void blas_products(CblasSgemm sgemm, Layer& L, long c0, long cols, long i0, long icols, float* dWt_block) {
  const int B = static_cast<int>(L.a.rows()), n_in = static_cast<int>(L.a.cols()),
            n_out = static_cast<int>(L.h.cols());
  const int nc = static_cast<int>(cols), ni = static_cast<int>(icols);
  if (cols > 0) {
    sgemm(kColMajor, kNoTrans, kNoTrans, B, nc, n_in, 1.f, L.a.data(), B, L.W.data() + c0 * n_in, n_in, 0.f,
          L.h.data() + c0 * B, B);
    sgemm(kColMajor, kTrans, kNoTrans, n_in, nc, B, 1.f, L.a.data(), B, L.dh.data() + c0 * B, B, 0.f,
          dWt_block, n_in);
  }
  if (icols > 0)  // da[:, i0:] = dh W[:, i0:]; W[:, i0:] is rows i0.. of W^T (n_in, n_out)
    sgemm(kColMajor, kNoTrans, kTrans, B, ni, n_out, 1.f, L.dh.data(), B, L.W.data() + i0, n_in, 0.f,
          L.da.data() + i0 * B, B);
}

void blas_blocks(CblasSgemm sgemm, Layer& L, int threads) {
  const long n_out = L.h.cols(), n_in = L.a.cols();
  for_blocks(n_out, threads, [&](long c0, long cols) {
    blas_products(sgemm, L, c0, cols, 0, 0, L.scratch[g_thread_index()].data());
  });
  for_blocks(n_in, threads, [&](long c0, long cols) { blas_products(sgemm, L, 0, 0, c0, cols, nullptr); });
}

void openblas_blocks(Layer& L, int threads) { blas_blocks(openblas().sgemm, L, threads); }
void blis_blocks(Layer& L, int threads) { blas_blocks(blis().sgemm, L, threads); }

}  // namespace

extern "C" void gemm_reference_use_threads(GemmParallelFor parallel_for, int (*thread_index)(void)) {
  g_parallel_for = parallel_for;
  g_thread_index = thread_index;
}

extern "C" const char* gemm_reference_name(int mode) {
  static const char* const names[kGemmModes] = {"eigen_parallel", "eigen_blocks", "openblas_blocks",
                                                "blis_blocks"};
  return mode >= 0 && mode < kGemmModes ? names[mode] : "unknown";
}

extern "C" const char* gemm_reference_library(int mode) {
  static const std::string eigen = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                   std::to_string(EIGEN_MINOR_VERSION) + ", " + Eigen::SimdInstructionSetsInUse();
  switch (mode) {
    case kGemmEigenParallel:
    case kGemmEigenBlocks: return eigen.c_str();
    case kGemmOpenBlasBlocks: return openblas().library.c_str();
    case kGemmBlisBlocks: return blis().library.c_str();
    default: return "unknown mode";
  }
}

extern "C" double gemm_reference_seconds(int mode, long batch, long n_in, long n_out, int threads,
                                         int calls) {
  void (*run)(Layer&, int) = nullptr;
  switch (mode) {
    case kGemmEigenParallel: run = eigen_parallel; break;
    case kGemmEigenBlocks: run = eigen_blocks; break;
    case kGemmOpenBlasBlocks: run = openblas().sgemm ? openblas_blocks : nullptr; break;
    case kGemmBlisBlocks: run = blis().sgemm ? blis_blocks : nullptr; break;
    default: break;
  }
  if (!run) return -1;
  Layer L(batch, n_in, n_out, threads);
  run(L, threads);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) run(L, threads);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
