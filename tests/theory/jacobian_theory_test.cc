// Free probability's Jacobian prediction (theory/jacobian_theory.h): its closed forms from the
// papers, and against --jacobian's measurement at width 256.
#include <doctest/doctest.h>

#include <cmath>

#include "base/errors.h"
#include "core/analysis.h"
#include "theory/theory.h"
#include "theory/theory_compare.h"

using namespace gf;

namespace {

struct Case {
  const char* act;
  const char* init;
  double sigma_w2;
  double sigma_b2;
};

// analyze --jacobian --theory at width 256, depth L, f64: (measured, predicted).
std::pair<JacobianStats, JacobianTheory> measure(const Case& k, Index L) {
  AnalysisConfig c;
  c.activations = {k.act};
  c.init = k.init;
  c.sigma_w2 = k.sigma_w2;
  if (k.sigma_b2 > 0) c.sigma_b2 = k.sigma_b2;
  c.depth = L;
  c.width = {256};
  c.batch = 16;
  c.dtype = Dtype::f64;
  c.jacobian = true;
  c.threads = 2;
  const AnalysisResult r = run_analysis(c);
  const TheoryComparison t = compare_with_theory(c, r.runs[0]);
  REQUIRE(r.runs[0].jacobian);
  REQUIRE(t.jacobian);
  return {*r.runs[0].jacobian, *t.jacobian};
}

}  // namespace

TEST_CASE("the prediction's closed forms at criticality: var s^2 = L (mu_2/mu_1^2 - 1 - s_1)") {
  // PSG 2017: linear Gaussian L, linear orthogonal 0; relu (mu_1 = mu_2 = 1/2 at sigma_w2 = 2)
  // Gaussian 2L, orthogonal L; and the mean chi_1^L = 1 for all four.
  const Case cases[] = {{"identity", "auto", 1, 0}, {"identity", "orthogonal", 1, 0}, {"relu", "auto", 2, 0},
                        {"relu", "orthogonal", 2, 0}};
  const double per_layer[] = {1, 0, 2, 1};
  for (int i = 0; i < 4; ++i) {
    CAPTURE(cases[i].act);
    CAPTURE(cases[i].init);
    const auto [measured, predicted] = measure(cases[i], 3);
    CHECK(predicted.s2_var_rel == doctest::Approx(3 * per_layer[i]).epsilon(1e-9));
    CHECK(std::abs(predicted.s2_mean_log10) < 1e-9);
  }
}

TEST_CASE("measured at width 256, depth 16, against the prediction") {
  // The prediction is for infinite width; the second moment of a product of L random n x n
  // factors is off by corrections of relative order L/n (Hanin & Nica 2019: the log-norm's
  // fluctuations grow as L/n), 6% here, and one draw of 4 samples adds its own: allowed 2.5 L/n.
  const Index L = 16;
  const double tol = 2.5 * static_cast<double>(L) / 256;
  const Case cases[] = {{"identity", "auto", 1, 0}, {"relu", "auto", 2, 0}, {"relu", "orthogonal", 2, 0},
                        {"tanh", "auto", 1.05, 2e-5}, {"tanh", "orthogonal", 1.05, 2e-5}};
  double relu_var[2] = {};
  for (int i = 0; i < 5; ++i) {
    CAPTURE(cases[i].act);
    CAPTURE(cases[i].init);
    const auto [measured, predicted] = measure(cases[i], L);
    const std::string name = std::string(cases[i].act) + " " + cases[i].init;
    MESSAGE(name, ": var s^2/mean^2 measured ", measured.s2_var_rel, " predicted ",
            predicted.s2_var_rel, "; log10 mean s^2 measured ", measured.s2_mean_log10, " predicted ",
            predicted.s2_mean_log10);
    CHECK(std::abs(measured.s2_var_rel / predicted.s2_var_rel - 1) < tol);
    // mean s^2: each layer multiplies it by a factor whose relative spread is about sqrt(2/n)
    // (the weights' chi-square, relu's binomial count of active units), shared by the samples:
    // log10 sd 0.434 sqrt(2 L / n) = 0.15 decades; allowed three of them.
    CHECK(std::abs(measured.s2_mean_log10 - predicted.s2_mean_log10) < 3 * 0.434 * std::sqrt(2.0 * L / 256));
    if (i == 1 || i == 2) relu_var[i - 1] = measured.s2_var_rel;
  }
  // Gaussian relu spreads twice as fast as orthogonal relu (2L against L).
  CHECK(relu_var[0] / relu_var[1] == doctest::Approx(2).epsilon(0.15));

  const auto [orth, orth_pred] = measure({"identity", "orthogonal", 1, 0}, L);
  CHECK(orth_pred.s2_var_rel == 0);
  CHECK(orth.s2_var_rel < 1e-20);
}

TEST_CASE("theory --jacobian: the closed forms, Gaussian and orthogonal") {
  TheoryConfig c;
  c.activations = {"relu", "identity"};
  c.sigma_w2 = {2.0};
  c.depth = 10;
  c.jacobian = true;
  for (const char* init : {"auto", "orthogonal"}) {
    CAPTURE(init);
    c.init = init;
    const double s_1 = c.init == "orthogonal" ? 0 : -1;
    const std::vector<TheoryResult> r = run_theory(c);
    REQUIRE(r[0].jacobian);
    // relu at sigma_w2 = 2: mu_1 = mu_2 = 1/2, chi_1 = 1, var = L (2 - 1 - s_1)
    CHECK(std::abs(r[0].jacobian->s2_mean_log10) < 1e-12);
    CHECK(r[0].jacobian->s2_var_rel == doctest::Approx(10 * (1 - s_1)).epsilon(1e-12));
    // identity: mean 2^L, var L (-s_1)
    CHECK(r[1].jacobian->s2_mean_log10 == doctest::Approx(10 * std::log10(2.0)).epsilon(1e-12));
    CHECK(r[1].jacobian->s2_var_rel == doctest::Approx(-10 * s_1 + 1e-300).epsilon(1e-12));
  }
  c.phase_diagram = true;
  CHECK_THROWS_AS(validate(c), UsageError);
}

TEST_CASE("linear Gaussian: the largest eigenvalue of J J^T near the Fuss-Catalan edge (L+1)^(L+1) / L^L") {
  // The spectrum of a product of L square Ginibre matrices (variance 1/n) ends at that edge as
  // n grows (Penson & Zyczkowski 2011); at n = 400 one draw's largest eigenvalue sits within
  // about 10% of it (measured 1.00, 0.94, 0.99, 1.03 of the edge at L = 1, 2, 4, 8): 15% allowed.
  for (Index L : {1, 2, 4, 8}) {
    CAPTURE(L);
    AnalysisConfig c;
    c.activations = {"identity"};
    c.sigma_w2 = 1.0;
    c.depth = L;
    c.width = {400};
    c.batch = 4;
    c.dtype = Dtype::f64;
    c.jacobian = true;
    c.jacobian_samples = 1;  // linear: every sample has the same J
    c.threads = 2;
    const JacobianStats st = *run_analysis(c).runs[0].jacobian;
    const double edge = std::pow(L + 1.0, L + 1.0) / std::pow(static_cast<double>(L), static_cast<double>(L));
    CHECK(std::abs(std::pow(10.0, 2 * st.s_max_log10) / edge - 1) < 0.15);
  }
}
