// The Fuss-Catalan density (theory/spectrum_theory.h): its parametric form against what defines
// the distribution (total mass 1, moments the Fuss-Catalan numbers, L = 1 Marchenko-Pastur's
// closed form), and against the singular values --jacobian measures in a linear Gaussian net.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/analysis.h"
#include "theory/spectrum_theory.h"

using namespace gf;

namespace {

// E[X^k] by the midpoint rule over phi, with dx/dphi by central differences: independent of
// fuss_catalan_cdf's analytic derivative.
double moment(int L, int k) {
  const int n = 100000;
  const double b = std::numbers::pi / (L + 1), h = b / n, d = 1e-7;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double phi = (i + 0.5) * h;
    const FussCatalanPoint p = fuss_catalan_point(L, phi);
    const double dx = (fuss_catalan_point(L, phi + d).x - fuss_catalan_point(L, phi - d).x) / (2 * d);
    sum += p.density * std::fabs(dx) * std::pow(p.x, k) * h;
  }
  return sum;
}

// Kolmogorov-Smirnov distance between the empirical distribution of `x` and the Fuss-Catalan
// distribution of order L scaled by `scale`.
double ks_distance(std::vector<double> x, int L, double scale) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double F = fuss_catalan_cdf(L, x[i] / scale);
    d = std::max({d, std::fabs(F - static_cast<double>(i) / n), std::fabs(F - static_cast<double>(i + 1) / n)});
  }
  return d;
}

}  // namespace

TEST_CASE("Fuss-Catalan numbers: Catalan's at L = 1, and the sequence 1, 1, 3, 12, 55 at L = 2") {
  for (int k = 0; k < 6; ++k) CHECK(fuss_catalan_number(1, k) == doctest::Approx(std::vector{1, 1, 2, 5, 14, 42}[k]));
  for (int k = 0; k < 5; ++k) CHECK(fuss_catalan_number(2, k) == doctest::Approx(std::vector{1, 1, 3, 12, 55}[k]));
  CHECK(fuss_catalan_number(4, 3) == doctest::Approx(35));   // binom(15, 3) / 13
  CHECK(fuss_catalan_number(4, 4) == doctest::Approx(285));  // binom(20, 4) / 17
  CHECK(fuss_catalan_edge(1) == 4);
  CHECK(fuss_catalan_edge(4) == doctest::Approx(3125.0 / 256));
}

TEST_CASE("the parametric density has mass 1, the Fuss-Catalan numbers as moments, its edge at (L+1)^(L+1)/L^L") {
  for (int L : {1, 2, 3, 4, 8}) {
    CAPTURE(L);
    for (int k = 0; k <= 4; ++k) {
      CAPTURE(k);
      CHECK(moment(L, k) == doctest::Approx(fuss_catalan_number(L, k)).epsilon(1e-5));
    }
    CHECK(fuss_catalan_point(L, 1e-9).x == doctest::Approx(fuss_catalan_edge(L)).epsilon(1e-9));
    CHECK(fuss_catalan_point(L, std::numbers::pi / (L + 1) - 1e-9).x < 1e-6);
    // the CDF: 0 and 1 at the ends, monotone, and its median where the mass splits
    CHECK(fuss_catalan_cdf(L, 0) == 0);
    CHECK(fuss_catalan_cdf(L, fuss_catalan_edge(L)) == 1);
    double last = 0;
    for (double x = 0.01; x < fuss_catalan_edge(L); x *= 1.5) {
      const double F = fuss_catalan_cdf(L, x);
      CHECK(F >= last);
      last = F;
    }
    CHECK(fuss_catalan_cdf(L, fuss_catalan_edge(L) * (1 - 1e-9)) == doctest::Approx(1).epsilon(1e-6));
    // per decade = rho x ln 10
    const FussCatalanPoint p = fuss_catalan_point(L, 0.3 / (L + 1));
    CHECK(p.per_decade == doctest::Approx(p.density * p.x * std::numbers::ln10).epsilon(1e-12));
  }
}

TEST_CASE("L = 1 is Marchenko-Pastur at ratio 1: rho(x) = sqrt(x (4 - x)) / (2 pi x), CDF included") {
  for (double phi : {0.1, 0.5, 1.0, 1.4}) {
    const FussCatalanPoint p = fuss_catalan_point(1, phi);
    CHECK(p.density == doctest::Approx(std::sqrt(p.x * (4 - p.x)) / (2 * std::numbers::pi * p.x)).epsilon(1e-12));
  }
  // Marchenko-Pastur's CDF at ratio 1: with x = 4 sin^2 t, rho dx = (4/pi) cos^2 t dt, so
  // F(x) = (2t + sin 2t) / pi
  for (double t : {0.2, std::numbers::pi / 4, 1.3}) {
    const double x = 4 * std::sin(t) * std::sin(t);
    CHECK(fuss_catalan_cdf(1, x) == doctest::Approx((2 * t + std::sin(2 * t)) / std::numbers::pi).epsilon(1e-8));
  }
}

TEST_CASE("predict_spectrum: Fuss-Catalan for linear iid nets of square layers, a point mass for orthogonal ones, "
          "free probability for nonlinear ones, none otherwise and it says why") {
  AnalysisConfig c;
  c.activations = {"identity"};
  c.depth = 4;
  c.width = {32};
  c.init = "xavier_normal";
  const Activation& id = *find_activation("identity");
  SpectrumPrediction p = predict_spectrum(c, id);
  CHECK(p.kind == SpectrumPrediction::Kind::fuss_catalan);
  CHECK(p.order == 4);
  CHECK(p.scale_log10 == doctest::Approx(0).epsilon(1e-12));  // xavier at fan_in = fan_out: sigma_w2 = 1
  c.init = "he_normal";
  CHECK(predict_spectrum(c, id).scale_log10 == doctest::Approx(4 * std::log10(2.0)));
  c.init = "orthogonal";
  c.gain = std::sqrt(1.5);
  p = predict_spectrum(c, id);
  CHECK(p.kind == SpectrumPrediction::Kind::point_mass);
  CHECK(p.scale_log10 == doctest::Approx(4 * std::log10(1.5)));
  c.gain.reset();
  c.activations = {"tanh"};
  p = predict_spectrum(c, *find_activation("tanh"));
  CHECK(p.kind == SpectrumPrediction::Kind::free_probability);  // free_density_test.cc checks the density
  CHECK(p.density.log10_x.size() > 100);
  CHECK(p.density.atom == 0);
  c.residual = 2;
  p = predict_spectrum(c, *find_activation("tanh"));
  CHECK(p.kind == SpectrumPrediction::Kind::none);
  CHECK(p.why_not.find("plain stack") != std::string::npos);
  c.residual = 0;
  c.activations = {"identity"};
  c.input_dim = 16;
  p = predict_spectrum(c, id);
  CHECK(p.kind == SpectrumPrediction::Kind::none);
  CHECK(p.why_not.find("square") != std::string::npos);
}

TEST_CASE("a linear Gaussian net at width 400, depth 4: the measured s^2 follow Fuss-Catalan of order 4 (KS), and "
          "not those of orders 2 or 8") {
  AnalysisConfig c;
  c.activations = {"identity"};
  c.init = "xavier_normal";  // sigma_w2 = 1 at fan_in = fan_out
  c.depth = 4;
  c.width = {400};
  c.batch = 4;
  c.dtype = Dtype::f64;
  c.jacobian = true;
  c.jacobian_samples = 1;  // a linear net has one J, the same at every input
  c.threads = 2;
  const AnalysisResult r = run_analysis(c);
  REQUIRE(r.runs[0].jacobian);
  std::vector<double> x;
  for (double u : r.runs[0].jacobian_log10_s2) x.push_back(std::pow(10.0, u));
  REQUIRE(x.size() == 400);  // every s above the rank tolerance
  // 400 eigenvalues of one random matrix. Were they iid, KS's 1% critical value would be
  // 1.63 / sqrt(400) = 0.081; eigenvalues repel, so their empirical distribution sits closer to
  // its mean than iid draws do, and the finite-n mean differs from the limit by O(1/n) in the
  // bulk. 0.05 passes a correct density with room and fails a wrong order by far.
  const double d4 = ks_distance(x, 4, 1.0);
  MESSAGE("KS distance to Fuss-Catalan order 4: " << d4);
  CHECK(d4 < 0.05);
  CHECK(ks_distance(x, 2, 1.0) > 0.1);
  CHECK(ks_distance(x, 8, 1.0) > 0.1);
  // and the largest s^2 near, and not beyond, the edge 12.2 (finite-n fluctuations ~ n^(-2/3))
  const double top = *std::max_element(x.begin(), x.end());
  CHECK(top < 1.1 * fuss_catalan_edge(4));
  CHECK(top > 0.8 * fuss_catalan_edge(4));
}
