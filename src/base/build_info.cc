#include "base/build_info.h"

#include <Eigen/Core>

#include "base/thread_team.h"
#include "version.h"

namespace gf {

std::string version_text() { return std::string("gradflow ") + GRADFLOW_VERSION + " (" + GRADFLOW_GIT_SHA + ")"; }

std::string compiler_text() {
#if defined(__clang__)
  return std::string("clang++ ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

std::string eigen_version() {
  return std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

std::string simd_text() { return Eigen::SimdInstructionSetsInUse(); }

std::string gemm_text() {
#ifdef GRADFLOW_OPENBLAS
  return "OpenBLAS (through Eigen's BLAS interface, single-threaded inside gradflow's blocks)";
#else
  return "Eigen " + eigen_version();
#endif
}

std::string threads_text() {
  return "gradflow's own team (base/thread_team): an idle thread keeps its core " +
         std::to_string(kPauseMicroseconds) + " us, yields it between looks up to " + std::to_string(kSpinMicroseconds) +
         " us, then sleeps";
}

nlohmann::ordered_json version_json() {
  return {{"version", GRADFLOW_VERSION},   {"git_sha", GRADFLOW_GIT_SHA},   {"build_type", GRADFLOW_BUILD_TYPE},
          {"compiler", compiler_text()},   {"eigen", eigen_version()},      {"simd", simd_text()},
          {"gemm", gemm_text()},           {"threads", threads_text()}};
}

}  // namespace gf
