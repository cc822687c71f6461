#pragma once
// What this binary was built from and with: `gradflow --version` (text or JSON, for bug
// reports) and the context block of every JSON document read it from here.
#include <nlohmann/json.hpp>
#include <string>

namespace gf {

std::string version_text();     // "gradflow 0.1.0 (1a2b3c4d5e6f)"
std::string compiler_text();    // "g++ 12.2.0"
std::string eigen_version();    // "3.4.0"
std::string simd_text();        // Eigen's vector instruction sets in use: "AVX512, FMA, AVX2, ..."
std::string gemm_text();        // who computes the matrix products
std::string threads_text();     // what runs the parallel loops, and how its idle threads wait
// {"version", "git_sha", "build_type", "compiler", "eigen", "simd", "gemm", "threads"}
nlohmann::ordered_json version_json();

}  // namespace gf
