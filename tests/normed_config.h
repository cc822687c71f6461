#pragma once
// The small normed plain stack the norm tests start from: 3 dense layers of width 6 over 5
// inputs, batch 5, random biases, f64, one thread; eps large enough that a missing eps would show.
#include <cstdint>
#include <string>

#include "core/analysis.h"

namespace gf::test {

inline AnalysisConfig small_normed(const std::string& act, NormKind norm, std::uint64_t seed = 0) {
  AnalysisConfig c;
  c.activations = {act};
  c.depth = 3;
  c.width = {6};
  c.input_dim = 5;
  c.batch = 5;
  c.classes = 4;
  c.sigma_b2 = 0.1;
  c.norm = norm;
  c.norm_eps = 1e-3;
  c.dtype = Dtype::f64;
  c.threads = 1;
  c.seed = seed;
  return c;
}

}  // namespace gf::test
