#pragma once
// The input-output Jacobian J = d a_L / d x in the making, at a few samples of the batch: what
// the walk of core/jacobian.cc shares with each op's Jacobian step (op_table.h's `jacobian`).
// After op l, sample k's J_l = d a_l / d x is 2^log2_scale[k] 10^log10_scale J[k]: the walk
// takes a power of 2 out of every J[k] after each op (exact), so that depth 500 neither
// overflows nor underflows f64, and an op whose stored slopes carry a factor (op_dense's
// rescaled slopes) adds its log10 to log10_scale.
#include <vector>

#include "core/pass.h"

namespace gf {

template <class T>
struct JacobianWalk {
  const NetworkSpec& s;
  const Params<T>& p;
  Workspace<T>& ws;              // D[l] holds the forward pass's slopes; W_scratch regenerated weights
  const PassResult& pass;        // the forward pass's per-layer records (their slope scales)
  int threads = 1;
  std::vector<Mat<double>> J;    // J[k] (n_{l-1}, n_0) before op l: sample k's (row k of the batch)
  std::vector<Mat<double>> next; // next[k] (n_l, n_0): what op l writes
  std::vector<int> log2_scale;   // per sample
  double log10_scale = 0;        // shared by the samples
  // Residual nets: J of the current block's input stream, kept by its branch_in for the
  // skip_add that adds it back (op_residual.cc), with its scales.
  std::vector<Mat<double>> stream_J;
  std::vector<int> stream_log2_scale;
  double stream_log10_scale = 0;

  Index samples() const { return static_cast<Index>(J.size()); }
};

}  // namespace gf
