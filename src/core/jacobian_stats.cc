#include "core/jacobian_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gf {

namespace {

// A plain value from its log10, NaN (null) where f64 would overflow or lose it to underflow.
double plain_or_nan(double log10_value) {
  return std::abs(log10_value) < 300 ? std::pow(10.0, log10_value) : kNaN;
}

constexpr JacobianMetric kJacobianMetrics[] = {
    {"jac_s2_mean", &JacobianStats::s2_mean,
     "mean of the squared singular values s^2 of J = d a_L / d x (tr(J J^T) / n), pooled over the samples", "mean s2"},
    {"jac_s2_mean_log10", &JacobianStats::s2_mean_log10, "log10 of jac_s2_mean (defined at any depth)"},
    {"jac_s2_var", &JacobianStats::s2_var, "variance of s^2, pooled over the samples", "var s2"},
    {"jac_s2_var_rel", &JacobianStats::s2_var_rel,
     "variance of s^2 / its mean^2: the spread at any scale (0: isometry)", "var/mean2"},
    {"jac_s_max_log10", &JacobianStats::s_max_log10, "log10 of the largest singular value of any sample", "log smax"},
    {"jac_s_min_log10", &JacobianStats::s_min_log10,
     "log10 of the smallest singular value above its sample's rank tolerance", "log smin"},
    {"jac_cond_log10", &JacobianStats::cond_log10,
     "log10 of the condition number s_max / s_min of the worst sample (s_min above the rank tolerance)", "log cond"},
    {"jac_rank_fraction", &JacobianStats::rank_fraction,
     "share of singular values above the rank tolerance s_max x max(n_L, n_0) x 2.2e-16 x L", "rank"},
    {"jac_isometry", &JacobianStats::isometry,
     "det(J J^T)^(1/n) / (tr(J J^T)/n) over the n = min(n_L, n_0) singular values, mean over samples: "
     "geometric over arithmetic mean of s^2, 1 only when every s is equal (AM-GM), 0 when J is rank-deficient",
     "isometry"},
    {"jac_probes", &JacobianStats::probes,
     "0: every figure is exact (the SVD of J); K: jac_s2_mean, jac_s2_var and jac_s2_var_rel are unbiased estimates "
     "from J V, V of K random Gaussian directions per sample (--jacobian-probes), with standard errors "
     "jac_s2_mean_rel_se and jac_s2_var_rel_se, and the figures that need the singular values are null"},
    {"jac_s2_mean_rel_se", &JacobianStats::s2_mean_rel_se,
     "--jacobian-probes: standard error of jac_s2_mean relative to it (jackknife over the probes); null when exact",
     "  s.e. (rel)", true},
    {"jac_s2_var_rel_se", &JacobianStats::s2_var_rel_se,
     "--jacobian-probes: standard error of jac_s2_var_rel (jackknife over the probes); null when exact",
     "  s.e.", true},
};

}  // namespace

double jacobian_rank_tolerance(double s_max, Index rows, Index cols, Index depth) {
  return s_max * static_cast<double>(std::max(rows, cols)) * std::numeric_limits<double>::epsilon() *
         static_cast<double>(std::max<Index>(depth, 1));
}

Index resolved_count(const JacobianSpectra& sp, std::size_t k) {
  const Vec<double>& s = sp.s[k];  // descending
  if (s.size() == 0 || !(s[0] > 0)) return 0;
  const double tol = jacobian_rank_tolerance(s[0], sp.rows, sp.cols, sp.depth);
  Index r = 0;
  while (r < s.size() && s[r] > tol) ++r;
  return r;
}

std::vector<double> resolved_log10_s2(const JacobianSpectra& sp) {
  std::vector<double> out;
  for (std::size_t k = 0; k < sp.s.size(); ++k)
    for (Index i = 0; i < resolved_count(sp, k); ++i) out.push_back(2 * (std::log10(sp.s[k][i]) + sp.log10_scale[k]));
  return out;
}

JacobianStats jacobian_stats(const JacobianSpectra& sp) {
  JacobianStats st;
  const std::size_t S = sp.s.size();
  st.samples = static_cast<double>(S);
  if (S == 0 || sp.s[0].size() == 0) return st;
  const Index n = sp.s[0].size();
  const double N = static_cast<double>(S) * static_cast<double>(n);
  // Every sample's s^2 relative to 10^(2 ref), the largest scale, so the pooled sums stay in range.
  const double ref = *std::max_element(sp.log10_scale.begin(), sp.log10_scale.end());
  auto weight = [&](std::size_t k) { return std::pow(10.0, 2 * (sp.log10_scale[k] - ref)); };
  double sum = 0;
  for (std::size_t k = 0; k < S; ++k) sum += weight(k) * sp.s[k].squaredNorm();
  const double mean = sum / N;
  double sq_dev = 0;  // two passes: no cancellation where the spread is near 0 (isometry)
  for (std::size_t k = 0; k < S; ++k)
    sq_dev += (sp.s[k].array().square() * weight(k) - mean).square().sum();
  const double var = sq_dev / N;
  st.s2_mean_log10 = std::log10(mean) + 2 * ref;
  st.s2_mean = plain_or_nan(st.s2_mean_log10);
  st.s2_var = var == 0 ? 0.0 : plain_or_nan(std::log10(var) + 4 * ref);
  st.s2_var_rel = var / (mean * mean);

  double resolved = 0, isometry = 0;
  st.s_max_log10 = -std::numeric_limits<double>::infinity();
  st.s_min_log10 = std::numeric_limits<double>::infinity();
  st.cond_log10 = 0;
  for (std::size_t k = 0; k < S; ++k) {
    const Vec<double>& s = sp.s[k];  // descending
    const Index r = resolved_count(sp, k);
    if (r == 0) continue;  // J = 0: nothing resolved
    resolved += static_cast<double>(r);
    st.s_max_log10 = std::max(st.s_max_log10, std::log10(s[0]) + sp.log10_scale[k]);
    st.s_min_log10 = std::min(st.s_min_log10, std::log10(s[r - 1]) + sp.log10_scale[k]);
    st.cond_log10 = std::max(st.cond_log10, std::log10(s[0] / s[r - 1]));
    if (r == n) {  // in logs: det^(1/n) of J J^T at depth 500 is far outside f64
      const double log_gm = 2 * s.array().log().mean();
      const double log_am = std::log(s.squaredNorm() / static_cast<double>(n));
      isometry += std::exp(log_gm - log_am);
    }
  }
  st.rank_fraction = resolved / N;
  st.isometry = isometry / static_cast<double>(S);
  if (resolved == 0) st.s_max_log10 = st.s_min_log10 = st.cond_log10 = kNaN;
  return st;
}

JacobianStats jacobian_probe_stats(const Jacobians& js, Index n) {
  JacobianStats st;
  const std::size_t S = js.J.size();
  st.samples = static_cast<double>(S);
  if (S == 0 || n == 0) return st;
  const Index K = js.J[0].cols();
  st.probes = static_cast<double>(K);
  if (K < 3) return st;
  const double N = static_cast<double>(S) * static_cast<double>(n);
  // Every sample's s^2 relative to 10^(2 ref), the largest scale, so the pooled sums stay in range.
  const double ref = *std::max_element(js.log10_scale.begin(), js.log10_scale.end());
  // Pooled over the samples, per probe j: x[j] = sum_k w_k G_k(j, j) / N, probe j's estimate of
  // mean s^2, and r[j] = sum_k w_k^2 sum_{i != j} G_k(i, j)^2, its pairs' share of `pairs`, the
  // sum over all i < j.
  Vec<double> x = Vec<double>::Zero(K), r = Vec<double>::Zero(K);
  double pairs = 0;
  for (std::size_t k = 0; k < S; ++k) {
    Mat<double> G = js.J[k].transpose() * js.J[k];  // V^T A V (K, K)
    const double w = std::pow(10.0, 2 * (js.log10_scale[k] - ref));
    x += w / N * G.diagonal();
    G.diagonal().setZero();
    const Vec<double> row = G.cwiseAbs2().rowwise().sum();
    r += w * w * row;
    pairs += w * w * row.sum() / 2;
  }
  struct Figures {
    double mean, var;
  };
  // From m probes: the sums of x, of x^2 and of the squared pairs over theirs.
  auto figures = [&](double sx, double sxx, double spairs, double m) {
    const double mean = sx / m;
    const double mean2 = (sx * sx - sxx) / (m * (m - 1));  // products of distinct probes: E = mean^2
    const double s4 = spairs / (m * (m - 1) / 2) / N;      // mean s^4
    return Figures{mean, s4 - mean2};
  };
  const double sx = x.sum(), sxx = x.squaredNorm(), k = static_cast<double>(K);
  const Figures all = figures(sx, sxx, pairs, k);
  // The delete-one-probe jackknife: Var ~ (K - 1) / K sum_j (theta_(j) - mean_j theta_(j))^2.
  Vec<double> mean_j(K), rel_j(K);
  for (Index j = 0; j < K; ++j) {
    const Figures f = figures(sx - x[j], sxx - x[j] * x[j], pairs - r[j], k - 1);
    mean_j[j] = f.mean;
    rel_j[j] = f.var / (f.mean * f.mean);
  }
  auto jackknife_se = [&](const Vec<double>& t) {
    return std::sqrt((k - 1) / k * (t.array() - t.mean()).square().sum());
  };
  const double var = std::max(0.0, all.var);
  st.s2_mean_log10 = std::log10(all.mean) + 2 * ref;
  st.s2_mean = plain_or_nan(st.s2_mean_log10);
  st.s2_var = var == 0 ? 0.0 : plain_or_nan(std::log10(var) + 4 * ref);
  st.s2_var_rel = var / (all.mean * all.mean);
  st.s2_mean_rel_se = jackknife_se(mean_j) / all.mean;
  st.s2_var_rel_se = jackknife_se(rel_j);
  return st;
}

std::span<const JacobianMetric> jacobian_metrics() { return kJacobianMetrics; }

const JacobianMetric* find_jacobian_metric(std::string_view key) {
  for (const JacobianMetric& m : kJacobianMetrics)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace gf
