#pragma once
// The residual network most residual tests start from: one activation, `depth` dense layers in
// blocks of K, one width, f64 unless changed, one thread (tests vary what they study on top).
#include <string>

#include "core/analysis.h"

namespace gf::test {

inline AnalysisConfig residual_config(const std::string& act, Index depth, Index K, Index width,
                                      const std::string& scale = "1", Index batch = 16) {
  AnalysisConfig c;
  c.activations = {act};
  c.depth = depth;
  c.residual = K;
  c.residual_scale = scale;
  c.width = {width};
  c.batch = batch;
  c.dtype = Dtype::f64;
  c.threads = 1;
  return c;
}

}  // namespace gf::test
