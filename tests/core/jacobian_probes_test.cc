// --jacobian-probes: the mean and spread of s^2 estimated from J V alone, against the exact
// spectrum of the same networks, within the standard errors the help states.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"
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

}  // namespace

TEST_CASE("--jacobian-probes: mean s^2 and var/mean^2 within 3 standard errors of the exact J's, for any init") {
  const Index K = 64, n = 256, S = 4;
  for (const auto& [act, init] : {std::pair{"tanh", "xavier_normal"}, std::pair{"relu", "he_normal"},
                                  std::pair{"identity", "orthogonal"}, std::pair{"tanh", "orthogonal"}}) {
    CAPTURE(act);
    CAPTURE(init);
    AnalysisConfig c = probed(act, init, 0);
    const JacobianStats exact = *run_one(c, *find_activation(act)).jacobian;
    c.jacobian_probes = K;
    const JacobianStats est = *run_one(c, *find_activation(act)).jacobian;
    const double v = exact.s2_var_rel;
    const double se_mean = std::sqrt(2 * (1 + v) / static_cast<double>(K * n * S));  // relative
    const double se_var = 2 * (1 + v) / (static_cast<double>(K) * std::sqrt(static_cast<double>(S)));
    const double err_mean = std::abs(std::pow(10.0, est.s2_mean_log10 - exact.s2_mean_log10) - 1);
    const double err_var = std::abs(est.s2_var_rel - v);
    MESSAGE(act, " ", init, ": var/mean^2 exact ", v, " estimated ", est.s2_var_rel, " (", err_var / se_var,
            " SE); mean s^2 off by ", err_mean / se_mean, " SE");
    CHECK(err_mean < 3 * se_mean);
    CHECK(err_var < 3 * se_var);
    // What needs the singular values themselves is not estimated.
    CHECK(std::isnan(est.s_max_log10));
    CHECK(std::isnan(est.isometry));
    CHECK(std::isnan(est.rank_fraction));
  }
}

TEST_CASE("--jacobian-probes: deep Gaussian linear net, var/mean^2 ~ L; partials; identical JSON for any --threads") {
  // Linear, Gaussian weights at sigma_w2 = 1: var/mean^2 of J J^T's eigenvalues grows like L
  // (about L (1 + ...) at width >> L); the estimate follows the exact value at 64 layers.
  AnalysisConfig c = probed("identity", "xavier_normal", 0);
  c.depth = 64;
  c.jacobian_depths = {0, 32};
  const RunResult exact = run_one(c, *find_activation("identity"));
  c.jacobian_probes = 128;
  const RunResult est = run_one(c, *find_activation("identity"));
  REQUIRE(est.jacobian_partials.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const double v = exact.jacobian_partials[i].stats.s2_var_rel;
    const double se = 2 * (1 + v) / (128 * std::sqrt(4.0));
    CAPTURE(i);
    MESSAGE("from layer ", exact.jacobian_partials[i].layer, ": exact ", v, ", estimated ",
            est.jacobian_partials[i].stats.s2_var_rel);
    CHECK(std::abs(est.jacobian_partials[i].stats.s2_var_rel - v) < 3 * se);
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
}
