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
  if (S == 0 || js.J[0].cols() < 2 || n == 0) return st;
  const double ref = *std::max_element(js.log10_scale.begin(), js.log10_scale.end());
  double sum2 = 0, sum4 = 0;  // sum s^2 and sum s^4 over the samples, relative to 10^(2 ref) and 10^(4 ref)
  for (std::size_t k = 0; k < S; ++k) {
    const Mat<double> G = js.J[k].transpose() * js.J[k];  // V^T A V (K, K)
    const Index K = G.rows();
    double diag = 0, off = 0;
    for (Index i = 0; i < K; ++i) {
      diag += G(i, i);
      for (Index j = i + 1; j < K; ++j) off += G(i, j) * G(i, j);
    }
    const double w = std::pow(10.0, 2 * (js.log10_scale[k] - ref));
    sum2 += w * diag / static_cast<double>(K);
    sum4 += w * w * off / (0.5 * static_cast<double>(K) * static_cast<double>(K - 1));
  }
  const double N = static_cast<double>(S) * static_cast<double>(n);
  const double mean = sum2 / N;
  const double var = std::max(0.0, sum4 / N - mean * mean);  // an estimate: below 0 by chance near isometry
  st.s2_mean_log10 = std::log10(mean) + 2 * ref;
  st.s2_mean = plain_or_nan(st.s2_mean_log10);
  st.s2_var = var == 0 ? 0.0 : plain_or_nan(std::log10(var) + 4 * ref);
  st.s2_var_rel = var / (mean * mean);
  return st;
}

std::span<const JacobianMetric> jacobian_metrics() { return kJacobianMetrics; }

const JacobianMetric* find_jacobian_metric(std::string_view key) {
  for (const JacobianMetric& m : kJacobianMetrics)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace gf
