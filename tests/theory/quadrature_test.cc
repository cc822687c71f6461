// The theory's integrals against independent computations: Gauss-Legendre against exact
// polynomial integrals, Gaussian moments, closed forms written here from the textbooks (elu,
// selu, hard_tanh, gelu second moments; the arc-cosine kernels), and for the smooth activations
// without a closed form a composite Simpson rule on a fine grid.
#include <doctest/doctest.h>

#include <cmath>

#include "theory/gaussian_expect.h"
#include "theory/quadrature.h"

using namespace gf;

namespace {

constexpr double kLambda = 1.0507009873554804934193349852946;
constexpr double kAlpha = 1.6732632423543772848170429916717;

double Phi_(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

// E[e^{a h}; h < 0] for h ~ N(0, v): e^{a^2 v/2} Phi(-a sqrt(v)).
double exp_below(double a, double v) { return std::exp(0.5 * a * a * v) * Phi_(-a * std::sqrt(v)); }


// Closed forms of E[phi^2] and E[phi'^2] for h ~ N(0, v).
struct Pair {
  double phi2, dphi2;
};
Pair elu_closed(double v) {
  // x>0: x^2 -> v/2. x<0: (e^x - 1)^2 = e^{2x} - 2 e^x + 1.
  const double neg = exp_below(2, v) - 2 * exp_below(1, v) + 0.5;
  return {v / 2 + neg, 0.5 + exp_below(2, v)};
}
Pair selu_closed(double v) {
  const double la = kLambda * kAlpha;
  const double neg = la * la * (exp_below(2, v) - 2 * exp_below(1, v) + 0.5);
  return {kLambda * kLambda * v / 2 + neg, kLambda * kLambda * 0.5 + la * la * exp_below(2, v)};
}
Pair hard_tanh_closed(double v) {
  // E[h^2; |h|<1] + P(|h|>1), with s = sqrt(v): E[h^2; |h|<1] = v (2 Phi(1/s) - 1) - 2 s pdf(1/s).
  const double s = std::sqrt(v), t = 1 / s;
  const double inside = 2 * Phi_(t) - 1;
  return {v * inside - 2 * s * pdf(t) + (1 - inside), inside};
}
// E[(h Phi(h))^2], h ~ N(0, v) (GELU's second moment):
//   v/4 + v/(2 pi) [asin(v/(1+v)) + 2 v / ((1+v) sqrt(1+2v))]
double gelu_phi2_closed(double v) {
  return v / 4 + v / (2 * M_PI) * (std::asin(v / (1 + v)) + 2 * v / ((1 + v) * std::sqrt(1 + 2 * v)));
}

// Composite Simpson on z in [lo, hi], independent of quadrature.cc; for smooth integrands.
Pair simpson_piece(const Phi& phi, double mu, double v, double lo, double hi, int n) {
  const double h = (hi - lo) / n;
  std::vector<double> x(static_cast<std::size_t>(n) + 1), a, d;
  for (int i = 0; i <= n; ++i) x[static_cast<std::size_t>(i)] = mu + std::sqrt(v) * (lo + i * h);
  phi.eval(x, a, d);
  double s2 = 0, sd2 = 0;
  for (int i = 0; i <= n; ++i) {
    const double z = lo + i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    const auto k = static_cast<std::size_t>(i);
    s2 += w * pdf(z) * a[k] * a[k];
    sd2 += w * pdf(z) * d[k] * d[k];
  }
  return {s2 * h / 3, sd2 * h / 3};
}
// Over [-12, 12], in two pieces split at h = 0 (softsign's kink; harmless for the others).
Pair simpson(const Phi& phi, double mu, double v) {
  const double zk = std::clamp(-mu / std::sqrt(v), -11.0, 11.0);
  const Pair a = simpson_piece(phi, mu, v, -12, zk, 100000), b = simpson_piece(phi, mu, v, zk, 12, 100000);
  return {a.phi2 + b.phi2, a.dphi2 + b.dphi2};
}

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

const double kVariances[] = {1e-4, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 30.0, 1000.0};

}  // namespace

TEST_CASE("Gauss-Legendre integrates polynomials of degree 2m-1 exactly") {
  for (int m : {1, 2, 5, 8, 12, 20}) {
    const LegendreRule& r = gauss_legendre(m);
    for (int k = 0; k < 2 * m; ++k) {
      double s = 0;
      for (std::size_t i = 0; i < r.x.size(); ++i) s += r.w[i] * std::pow(r.x[i], k);
      const double exact = k % 2 ? 0.0 : 2.0 / (k + 1);
      CHECK(std::abs(s - exact) < 1e-13);
    }
  }
}

TEST_CASE("the Gaussian rule has the moments of N(0,1), cut anywhere") {
  for (auto breaks : {std::vector<double>{}, std::vector<double>{0.3, -2.7, 5.5, 9.99}}) {
    const GaussianRule r = gaussian_rule(breaks);
    double m0 = 0, m2 = 0, m4 = 0, m1 = 0;
    for (std::size_t i = 0; i < r.z.size(); ++i) {
      m0 += r.w[i];
      m1 += r.w[i] * r.z[i];
      m2 += r.w[i] * r.z[i] * r.z[i];
      m4 += r.w[i] * std::pow(r.z[i], 4);
    }
    CHECK(std::abs(m0 - 1) < 1e-14);
    CHECK(std::abs(m1) < 1e-14);
    CHECK(std::abs(m2 - 1) < 1e-13);
    CHECK(std::abs(m4 - 3) < 1e-12);
  }
}

TEST_CASE("quadrature matches the closed forms of relu, leaky_relu and identity") {
  for (const char* name : {"relu", "leaky_relu", "identity"}) {
    for (double slope : {0.01, 0.2, -0.5}) {
      const Phi phi = phi_of(name, slope);
      for (double v : kVariances) {
        CAPTURE(std::string(name));
        CAPTURE(slope);
        CAPTURE(v);
        Moments1 cf;
        REQUIRE(closed_form1(phi, v, cf));
        const Moments1 q = expect1(phi, 0, v, ExpectMethod::quadrature);
        CHECK(rel(q.phi2, cf.phi2) < 1e-12);
        CHECK(rel(q.dphi2, cf.dphi2) < 1e-12);
        CHECK(rel(q.dphi2_dv, cf.dphi2_dv) < 1e-9);
        CHECK(std::abs(q.zdphi2 - cf.zdphi2) < 1e-9);
        CHECK(rel(q.z2dphi2, cf.z2dphi2) < 1e-9);
        CHECK(std::abs(q.phi - cf.phi) < 1e-12 * std::sqrt(v));
        // relu and leaky_relu: chi_1 / sigma_w2 = (1 + a^2) / 2.
        const double a = std::string_view(name) == "relu" ? 0.0 : std::string_view(name) == "identity" ? 1.0 : slope;
        CHECK(rel(cf.dphi2, (1 + a * a) / 2) < 1e-15);
        for (double c : {-0.9, 0.0, 0.3, 0.8, 0.99, 0.9999}) {
          CAPTURE(c);
          Moments2 k;
          REQUIRE(closed_form2(phi, v, c, k));
          const Moments2 q2 = expect2(phi, 0, v, c, ExpectMethod::quadrature);
          CHECK(std::abs(q2.phiphi - k.phiphi) < 1e-7 * v);
          CHECK(std::abs(q2.dphidphi - k.dphidphi) < 1e-7);
        }
      }
    }
  }
}

TEST_CASE("quadrature is accurate to 1e-10 for the kinked activations: elu, selu, hard_tanh") {
  for (double v : kVariances) {
    if (v > 100) continue;  // the closed forms below overflow (e^{2v}); hard_tanh's is checked there too
    CAPTURE(v);
    const Moments1 elu = expect1(phi_of("elu"), 0, v), selu = expect1(phi_of("selu"), 0, v),
                   ht = expect1(phi_of("hard_tanh"), 0, v);
    CHECK(rel(elu.phi2, elu_closed(v).phi2) < 1e-10);
    CHECK(rel(elu.dphi2, elu_closed(v).dphi2) < 1e-10);
    CHECK(rel(selu.phi2, selu_closed(v).phi2) < 1e-10);
    CHECK(rel(selu.dphi2, selu_closed(v).dphi2) < 1e-10);
    CHECK(rel(ht.phi2, hard_tanh_closed(v).phi2) < 1e-10);
    CHECK(rel(ht.dphi2, hard_tanh_closed(v).dphi2) < 1e-10);
  }
  // The variance at which selu's constants were chosen: q = 1 is a fixed point of lecun_normal.
  CHECK(std::abs(expect1(phi_of("selu"), 0, 1.0).phi2 - 1) < 1e-9);
}

TEST_CASE("quadrature matches gelu's closed-form second moment, and Simpson for the smooth ones") {
  for (double v : kVariances) {
    CAPTURE(v);
    CHECK(rel(expect1(phi_of("gelu"), 0, v).phi2, gelu_phi2_closed(v)) < 1e-10);
  }
  for (const char* name : {"tanh", "sigmoid", "gelu", "silu", "softplus", "softsign"}) {
    for (double mu : {0.0, -0.6, 1.3}) {
      for (double v : {0.01, 0.5, 3.0, 40.0}) {
        CAPTURE(std::string(name));
        CAPTURE(mu);
        CAPTURE(v);
        const Phi phi = phi_of(name);
        const Moments1 q = expect1(phi, mu, v);
        const Pair s = simpson(phi, mu, v);
        CHECK(rel(q.phi2, s.phi2) < 1e-10);
        CHECK(rel(q.dphi2, s.dphi2) < 1e-10);
      }
    }
  }
}

TEST_CASE("two-input expectations: c = 0 factorises, c = 1 is the one-input moment, every activation") {
  for (const Activation& act : activations()) {
    const Phi phi{&act, 0.01};
    for (double mu : {0.0, -0.4}) {
      for (double v : {0.05, 1.0, 9.0}) {
        CAPTURE(std::string(act.name));
        CAPTURE(mu);
        CAPTURE(v);
        const Moments1 m = expect1(phi, mu, v, ExpectMethod::quadrature);
        const Moments2 zero = expect2(phi, mu, v, 0.0, ExpectMethod::quadrature);
        const Moments2 one = expect2(phi, mu, v, 1.0, ExpectMethod::quadrature);
        const double scale = std::max(1.0, m.phi2);
        CHECK(std::abs(zero.phiphi - m.phi * m.phi) < 1e-9 * scale);
        CHECK(std::abs(one.phiphi - m.phi2) < 1e-9 * scale);
        CHECK(std::abs(one.dphidphi - m.dphi2) < 1e-8);
      }
    }
  }
}

TEST_CASE("Price's theorem: d E[phi phi'] / dc = v E[phi' phi'], by central differences") {
  for (const char* name : {"tanh", "elu", "hard_tanh", "gelu"}) {
    const Phi phi = phi_of(name);
    const double v = 1.3, mu = 0.2, c = 0.4, e = 1e-4;
    const double d = (expect2(phi, mu, v, c + e).phiphi - expect2(phi, mu, v, c - e).phiphi) / (2 * e);
    CAPTURE(std::string(name));
    CHECK(std::abs(d - v * expect2(phi, mu, v, c).dphidphi) < 1e-6);
  }
}
