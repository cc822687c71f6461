// --jacobian-probes: the mean and spread of s^2 estimated from J V alone. The estimator on its
// own, on a fixed J with a known spectrum over many independent draws of V (its average against
// the exact figures: unbiased; the spread of the estimates against the standard error it reports);
// then on networks, against the exact SVD path within a few of the reported standard errors, for
// tanh, relu and linear nets with Gaussian and orthogonal weights, narrowing as K grows.
#include <doctest/doctest.h>

#include <Eigen/QR>
#include <cmath>

#include "core/analysis.h"
#include "core/jacobian_stats.h"
#include "core/rng.h"
#include "core/run_json.h"

using namespace gf;

namespace {

AnalysisConfig probed(const char* act, const char* init, Index probes) {
  AnalysisConfig c;
  c.activations = {act};
  c.init = init;
  c.depth = 16;
  c.width = {256};
  c.batch = 8;
  c.jacobian = true;
  c.jacobian_samples = 4;
  c.jacobian_probes = probes;
  c.threads = 2;
  return c;
}

Mat<double> normal_matrix(Index rows, Index cols, std::uint64_t seed) {
  Mat<double> m(rows, cols);
  fill_normal<double>({seed, Stream::jacobian_probes, 0}, 0, m.data(), static_cast<std::size_t>(m.size()));
  return m;
}

// mean, variance over a vector of replicates
std::pair<double, double> moments(const std::vector<double>& x) {
  double m = 0, v = 0;
  for (double e : x) m += e;
  m /= static_cast<double>(x.size());
  for (double e : x) v += (e - m) * (e - m);
  return {m, v / static_cast<double>(x.size() - 1)};
}

}  // namespace

TEST_CASE("the probe estimator on a fixed J: unbiased over 400 draws of V, and its jackknife standard errors "
          "match the spread of the estimates") {
  // J = U diag(s) Q^T with s^2 spread over two decades: exact mean s^2 and var s^2 from s.
  const Index n = 48, K = 12, R = 400;
  const Mat<double> U = Eigen::HouseholderQR<Mat<double>>(normal_matrix(n, n, 1)).householderQ();
  const Mat<double> Q = Eigen::HouseholderQR<Mat<double>>(normal_matrix(n, n, 2)).householderQ();
  Vec<double> s2(n);
  for (Index i = 0; i < n; ++i) s2[i] = std::pow(10.0, 2.0 * i / (n - 1) - 1);
  const Mat<double> J = U * s2.cwiseSqrt().asDiagonal() * Q.transpose();
  const double mean = s2.mean(), var = (s2.array() - mean).square().mean(), rel = var / (mean * mean);
  std::vector<double> means, vars, rels, mean_se2, rel_se2;
  for (Index r = 0; r < R; ++r) {
    Jacobians js;
    for (std::uint64_t k = 0; k < 2; ++k) {  // two "samples" with the same J, scales 10^0 and 10^-1
      js.J.push_back(J * normal_matrix(n, K, 100 + 2 * static_cast<std::uint64_t>(r) + k));
      js.log10_scale.push_back(k == 0 ? 0.0 : -0.5);
    }
    const JacobianStats st = jacobian_probe_stats(js, n);
    REQUIRE(st.probes == K);
    means.push_back(st.s2_mean);
    vars.push_back(st.s2_var);
    rels.push_back(st.s2_var_rel);
    mean_se2.push_back(st.s2_mean_rel_se * st.s2_mean_rel_se);
    rel_se2.push_back(st.s2_var_rel_se * st.s2_var_rel_se);
  }
  // The pooled exact figures of the two samples (s^2 and s^2 / 10).
  const double pooled_mean = mean * 0.55;
  const double pooled_var = (s2.array().square().mean() * 1.01) / 2 - pooled_mean * pooled_mean;
  const auto [m_avg, m_var] = moments(means);
  const auto [v_avg, v_var] = moments(vars);
  const auto [r_avg, r_var] = moments(rels);
  MESSAGE("mean s^2: exact ", pooled_mean, ", average of ", R, " estimates ", m_avg, " (", std::abs(m_avg - pooled_mean) / std::sqrt(m_var / R),
          " SE of the average)");
  MESSAGE("var s^2: exact ", pooled_var, ", average ", v_avg, " (", std::abs(v_avg - pooled_var) / std::sqrt(v_var / R),
          " SE); var/mean^2 exact ", pooled_var / (pooled_mean * pooled_mean), " average ", r_avg);
  CHECK(std::abs(m_avg - pooled_mean) < 4 * std::sqrt(m_var / R));
  CHECK(std::abs(v_avg - pooled_var) < 4 * std::sqrt(v_var / R));
  // var/mean^2 is a ratio: biased, but by far less than its standard error.
  CHECK(std::abs(r_avg - pooled_var / (pooled_mean * pooled_mean)) < 0.2 * std::sqrt(r_var));
  (void)rel;
  // The reported standard errors (root mean square over the replicates) against the actual spread.
  const double mean_se_ratio = std::sqrt(moments(mean_se2).first) / (std::sqrt(m_var) / pooled_mean);
  const double rel_se_ratio = std::sqrt(moments(rel_se2).first) / std::sqrt(r_var);
  MESSAGE("reported / actual standard error: mean s^2 ", mean_se_ratio, ", var/mean^2 ", rel_se_ratio);
  CHECK(mean_se_ratio > 0.85);
  CHECK(mean_se_ratio < 1.15);
  CHECK(rel_se_ratio > 0.8);  // the jackknife of a U-statistic errs on the high side
  CHECK(rel_se_ratio < 1.5);
}

TEST_CASE("--jacobian-probes against the exact J within 4 reported standard errors, tanh/relu/linear x "
          "Gaussian/orthogonal; the errors narrow as K grows") {
  for (const auto& [act, gaussian] : {std::pair{"tanh", "xavier_normal"}, std::pair{"relu", "he_normal"},
                                      std::pair{"identity", "xavier_normal"}}) {
    for (const char* init : {gaussian, "orthogonal"}) {
      CAPTURE(act);
      CAPTURE(init);
      AnalysisConfig c = probed(act, init, 0);
      const JacobianStats exact = *run_one(c, *find_activation(act)).jacobian;
      CHECK(exact.probes == 0);
      CHECK(std::isnan(exact.s2_mean_rel_se));
      double last_mean_se = 1e300, last_rel_se = 1e300;
      for (Index K : {16, 64, 256}) {
        c.jacobian_probes = K;
        const JacobianStats est = *run_one(c, *find_activation(act)).jacobian;
        CHECK(est.probes == K);
        const double err_mean = std::abs(std::pow(10.0, est.s2_mean_log10 - exact.s2_mean_log10) - 1);
        const double err_rel = std::abs(est.s2_var_rel - exact.s2_var_rel);
        MESSAGE(act, " ", init, " K=", K, ": mean s^2 exact ", exact.s2_mean, " est ", est.s2_mean, " +- ",
                est.s2_mean_rel_se * est.s2_mean, " (", err_mean / est.s2_mean_rel_se, " SE); var/mean^2 exact ",
                exact.s2_var_rel, " est ", est.s2_var_rel, " +- ", est.s2_var_rel_se, " (",
                err_rel / est.s2_var_rel_se, " SE)");
        CHECK(err_mean < 4 * est.s2_mean_rel_se);
        CHECK(err_rel < 4 * est.s2_var_rel_se);
        // Four times the probes: the mean's error about halves (1/sqrt K), the spread's more (1/K
        // where the spectrum is narrow).
        CHECK(est.s2_mean_rel_se < 0.65 * last_mean_se);
        CHECK(est.s2_var_rel_se < 0.65 * last_rel_se);
        last_mean_se = est.s2_mean_rel_se;
        last_rel_se = est.s2_var_rel_se;
        // What needs the singular values themselves is not estimated.
        CHECK(std::isnan(est.s_max_log10));
        CHECK(std::isnan(est.isometry));
        CHECK(std::isnan(est.rank_fraction));
      }
    }
  }
}

TEST_CASE("--jacobian-probes: deep Gaussian linear net, partials; identical JSON for any --threads") {
  // Linear, Gaussian weights at sigma_w2 = 1: var/mean^2 of J J^T's eigenvalues grows like L; the
  // estimate follows the exact value at 64 layers, for J and for d a_L / d a_32.
  AnalysisConfig c = probed("identity", "xavier_normal", 0);
  c.depth = 64;
  c.jacobian_depths = {0, 32};
  const RunResult exact = run_one(c, *find_activation("identity"));
  c.jacobian_probes = 128;
  const RunResult est = run_one(c, *find_activation("identity"));
  REQUIRE(est.jacobian_partials.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const JacobianStats& e = est.jacobian_partials[i].stats;
    const double v = exact.jacobian_partials[i].stats.s2_var_rel;
    CAPTURE(i);
    MESSAGE("from layer ", exact.jacobian_partials[i].layer, ": var/mean^2 exact ", v, ", estimated ", e.s2_var_rel,
            " +- ", e.s2_var_rel_se);
    CHECK(std::abs(e.s2_var_rel - v) < 4 * e.s2_var_rel_se);
    CHECK(e.s2_var_rel_se < 0.25 * v);  // an estimate that says something
  }
  CHECK(exact.jacobian->s2_var_rel > 30);  // not a flat spectrum: the test is about a real spread
  std::string docs[2];
  for (int t = 0; t < 2; ++t) {
    c.threads = t == 0 ? 1 : 3;
    const AnalysisResult r = run_analysis(c);
    docs[t] = config_json(c).dump() + run_json(r.runs.front()).dump();
  }
  CHECK(docs[0] == docs[1]);
  CHECK(docs[0].find("\"jacobian-probes\":128") != std::string::npos);
  CHECK(docs[0].find("\"jac_probes\":128") != std::string::npos);
}
