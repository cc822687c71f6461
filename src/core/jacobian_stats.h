#pragma once
// The figures of `--jacobian`, declared once: each sample's singular values of J = d a_L / d x
// (jacobian.h) pooled into a few numbers per run. JSON, CSV, tables, sweep records and check
// rules all read jacobian_metrics().
#include <span>
#include <string_view>

#include "core/jacobian.h"

namespace gf {

// Pooled over the samples' singular values s (min(n_L, n_0) per sample). Numbers that can
// leave f64's range at depth are given as log10; a plain value is NaN (null) where it would.
struct JacobianStats {
  double samples = 0;
  double s2_mean = kNaN;         // mean of s^2 = tr(J J^T) / n, pooled
  double s2_mean_log10 = kNaN;
  double s2_var = kNaN;          // variance of s^2, pooled
  double s2_var_rel = kNaN;      // variance / mean^2: the spread at any scale (= variance where the mean is 1)
  double s_max_log10 = kNaN;     // the largest s of any sample
  double s_min_log10 = kNaN;     // the smallest s above its sample's rank tolerance
  double cond_log10 = kNaN;      // worst sample's s_max / s_min (both as above)
  double rank_fraction = kNaN;   // share of s above the rank tolerance
  double isometry = kNaN;        // mean over samples of det(JJ^T)^(1/n) / (tr(JJ^T)/n); 0 if rank-deficient
  // --jacobian-probes K: the three s^2 figures above are estimates from K random directions per
  // sample (0: exact), with these standard errors; the figures that need the singular values are NaN.
  double probes = 0;
  double s2_mean_rel_se = kNaN;  // of s2_mean, relative to it
  double s2_var_rel_se = kNaN;   // of s2_var_rel
};

// --jacobian-depths: the same figures for the partial Jacobian d a_L / d a_l, a_l the output of
// layer l (0: the input, where it is J itself).
struct PartialJacobianStats {
  Index layer = 0;
  JacobianStats stats;
};

// A singular value is resolved when above s_max x max(n_L, n_0) x eps_f64 x L: LAPACK's rank
// tolerance, times the L products that each round at that level.
double jacobian_rank_tolerance(double s_max, Index rows, Index cols, Index depth);

// How many of sample k's singular values (descending) are above the rank tolerance.
Index resolved_count(const JacobianSpectra& spectra, std::size_t k);

JacobianStats jacobian_stats(const JacobianSpectra& spectra);

// --jacobian-probes: the mean and spread of s^2 from Y = J V alone (jacobians(..., probes)), V of
// K independent N(0, I) columns v_1 .. v_K per sample. With A = J^T J and G = Y^T Y = V^T A V:
//   E[G_ii] = E[v^T A v] = tr A                       (Hutchinson 1990),
//   E[G_ij^2] = E[w^T A v v^T A w] = E[w^T A^2 w] = tr A^2   (i != j: v, w independent),
// so the mean of the K diagonal entries and of the K (K - 1) / 2 squared off-diagonal ones are
// unbiased estimates of each sample's sum s^2 and sum s^4, pooled over the samples' n =
// min(n_L, n_0) singular values as jacobian_stats pools them (A's other eigenvalues are 0).
// mean^2 is estimated without bias by the products of distinct probes' means (a U-statistic),
// so s2_mean and s2_var are unbiased; s2_var is clipped at 0 (near isometry it can come out
// below by chance), and s2_var_rel is their ratio (bias O(1 / (K n)) relative, far below its
// standard error). Standard errors: the delete-one-probe jackknife (probe j of every sample
// left out in turn: the K groups are independent and identically distributed), exact in
// expectation for s2_mean, conservative for the U-statistics (Efron & Stein 1981). For Gaussian
// v they are about sqrt(2 (1 + v) / (K n S)) relative for s2_mean and 2 (1 + v) / (K sqrt(S)) for
// v = s2_var_rel when the spectrum is not heavy-tailed (plus a term in E[s^8] that dominates for
// deep Gaussian nets). The figures that need the singular values themselves (s_max, s_min,
// condition, rank, isometry) are NaN. Needs K >= 3 (the jackknife of a pair statistic).
JacobianStats jacobian_probe_stats(const Jacobians& js, Index n);

// log10 s^2 of every resolved singular value of every sample, in sample order: the spectral
// density's data (analyze --plot-spectrum).
std::vector<double> resolved_log10_s2(const JacobianSpectra& spectra);

struct JacobianMetric {
  std::string_view key;  // "jac_" + the field's name
  double JacobianStats::*field;
  std::string_view description;
  std::string_view header = {};  // its column in the table ("" : JSON, CSV and check only)
  bool probes_only = false;       // a standard error: a table row only with --jacobian-probes
};

std::span<const JacobianMetric> jacobian_metrics();
const JacobianMetric* find_jacobian_metric(std::string_view key);

}  // namespace gf
