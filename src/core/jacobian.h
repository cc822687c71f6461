#pragma once
// `--jacobian`: the singular values of the input-output Jacobian J = d a_L / d x (a_L the last
// hidden layer, x the input) at the batch's first samples. Each sample has its own J, because
// the slopes depend on the input: J = diag(phi_L'(h_L)) W_L ... diag(phi_1'(h_1)) W_1, formed in
// f64 op by op (each op kind's Jacobian step in op_table.h) with a power of 2 taken out after
// every op, then Eigen's BDCSVD. Cost per sample: sum_l n_l n_{l-1} n_0 multiply-adds for the
// product, O(n^3) for the SVD: O(L n^3) for width n.
#include <vector>

#include "core/pass.h"

namespace gf {

// The singular values of each sample's J at unit scale, and the scale: sample k's true singular
// values are s[k] * 10^log10_scale[k]. Descending, min(n_L, n_0) of them.
struct JacobianSpectra {
  std::vector<Vec<double>> s;
  std::vector<double> log10_scale;
  Index depth = 0;  // L, the ops multiplied (for the rank tolerance)
  Index rows = 0, cols = 0;  // J (n_L, n_0)
};

// Sample k's J (n_L, n_0) is 10^log10_scale[k] J[k].
struct Jacobians {
  std::vector<Mat<double>> J;
  std::vector<double> log10_scale;
};

// J at rows 0 .. samples-1 of the batch, from a finite forward pass (ws.D holds its slopes).
// from > 0: the partial Jacobian d a_L / d a_from (n_L, n_from) instead (--jacobian-depths), the
// walk started at identity after op `from`; `from` must be a partial_jacobian_layer.
// probes > 0: J V instead, V (n_from, probes) of N(0, 1) draws (Stream::jacobian_probes, one V
// per sample): O(L n^2 probes) instead of O(L n^3), for jacobian_probe_stats.
// Throws UsageError if an op kind has no Jacobian step.
template <class T>
Jacobians jacobians(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassResult& pass,
                    Index samples, Index from = 0, Index probes = 0);

// Their singular values.
template <class T>
JacobianSpectra jacobian_spectra(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassResult& pass,
                                 Index samples, Index from = 0);

// Whether d a_L / d a_l is a walk of whole ops: 0 <= l < L, and in a residual net a_l on the
// stream (the input, the projection's output, a block's output), since a_L depends on a layer
// inside a branch also through the stream that skips it.
bool partial_jacobian_layer(const NetworkSpec& s, Index l);

// Bytes jacobian_spectra allocates for `samples` samples: two n_max x n_0 f64 matrices each,
// three in a residual net (the block input's J is kept); with partials, n_max x n_max.
// With probes > 0, n_max x probes each.
std::uint64_t jacobian_bytes(const NetworkSpec& s, Index samples, bool partials = false, Index probes = 0);

}  // namespace gf
