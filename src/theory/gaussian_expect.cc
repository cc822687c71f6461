#include "theory/gaussian_expect.h"

#include <cmath>

#include "theory/quadrature.h"

namespace gf {

void Phi::eval(const std::vector<double>& h, std::vector<double>& a, std::vector<double>& d) const {
  a.resize(h.size());
  d.resize(h.size());
  act->f64.phi_and_slope(h.data(), a.data(), d.data(), static_cast<Index>(h.size()), param);
}

double Phi::value(double h) const {
  double a = 0, d = 0;
  act->f64.phi_and_slope(&h, &a, &d, 1, param);
  return a;
}

double Phi::slope(double h) const {
  double a = 0, d = 0;
  act->f64.phi_and_slope(&h, &a, &d, 1, param);
  return d;
}

namespace {

// phi(x) = s x + (1 - s) relu(x): relu (s = 0), leaky_relu (s), identity (s = 1). With
// theta = arccos c, Cho & Saul's arc-cosine kernel of degree 1 and 0:
//   E[relu(h1) relu(h2)] = v (sin theta + (pi - theta) c) / (2 pi),  E[1{h1>0} 1{h2>0}] = (pi - theta) / (2 pi)
// and E[h1 relu(h2)] = c v / 2.
bool leaky_slope_of(const Phi& phi, double& s) {
  const std::string_view n = phi.act->name;
  if (n == "relu") s = 0;
  else if (n == "leaky_relu") s = phi.param;
  else if (n == "identity") s = 1;
  else return false;
  return true;
}

}  // namespace

bool closed_form1(const Phi& phi, double v, Moments1& m) {
  double s = 0;
  if (!leaky_slope_of(phi, s)) return false;
  m.phi = (1 - s) * std::sqrt(v / (2 * M_PI));
  m.phi2 = v * (1 + s * s) / 2;
  m.dphi2 = (1 + s * s) / 2;
  m.dphi4 = (1 + s * s * s * s) / 2;
  m.dphi2_dv = (1 + s * s) / 2;
  m.zdphi2 = (1 - s * s) / std::sqrt(2 * M_PI);  // E[z; z > 0] = 1 / sqrt(2 pi)
  m.z2dphi2 = (1 + s * s) / 2;
  return true;
}

bool closed_form2(const Phi& phi, double v, double c, Moments2& m) {
  double s = 0;
  if (!leaky_slope_of(phi, s)) return false;
  c = std::clamp(c, -1.0, 1.0);
  const double theta = std::acos(c), r = 1 - s;
  const double k1 = v * (std::sqrt(1 - c * c) + (M_PI - theta) * c) / (2 * M_PI);
  const double k0 = (M_PI - theta) / (2 * M_PI);
  m.phiphi = s * s * c * v + s * r * c * v + r * r * k1;
  m.dphidphi = s * s + s * r + r * r * k0;
  return true;
}

std::string_view expect_method_name(const Phi& phi, double mu) {
  double s = 0;
  return mu == 0 && leaky_slope_of(phi, s) ? "closed form" : "quadrature";
}

namespace {

// The smallest variance treated as a spread; below it h is the constant mu for phi, while
// phi' is still averaged over this spread (at a kink, the mean of both sides: the limit as v
// goes to 0). d E[phi^2]/dv is taken here too, where it is phi'(mu)^2 + phi(mu) phi''(mu) to 1e-10.
constexpr double kTinyVar = 1e-12;

Moments1 quad1(const Phi& phi, double mu, double v) {
  const double ve = std::max(v, kTinyVar), sd = std::sqrt(ve);
  const GaussianRule rule = gaussian_rule(activation_breaks(phi.act->kinks, mu, ve));
  std::vector<double> h(rule.z.size()), a, d;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = mu + sd * rule.z[i];
  phi.eval(h, a, d);
  Moments1 m;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const double w = rule.w[i];
    m.phi += w * a[i];
    m.phi2 += w * a[i] * a[i];
    m.dphi2 += w * d[i] * d[i];
    m.dphi4 += w * d[i] * d[i] * d[i] * d[i];
    m.dphi2_dv += w * a[i] * d[i] * rule.z[i];
    m.zdphi2 += w * rule.z[i] * d[i] * d[i];
    m.z2dphi2 += w * rule.z[i] * rule.z[i] * d[i] * d[i];
  }
  m.dphi2_dv /= sd;
  if (v < kTinyVar) {  // h is the constant mu. phi' keeps the spread: at a kink it averages both sides.
    const double a0 = phi.value(mu);
    m.phi = a0;
    m.phi2 = a0 * a0;
  }
  return m;
}

// Outer integral over z1 (h1 = mu + sqrt(v) z1); for each node, the inner one over h2 given
// h1, which is N(mu + c (h1 - mu), v (1 - c^2)): each cut at its own kinks.
Moments2 quad2(const Phi& phi, double mu, double v, double c) {
  Moments2 m;
  c = std::clamp(c, -1.0, 1.0);
  v = std::max(v, kTinyVar);
  const double sd = std::sqrt(v), v_cond = v * (1 - c * c);
  // h2's kinks turn into steps of width sqrt(v (1 - c^2)) / c in h1, at h1 = mu + (k - mu) / c:
  // near c = 1 they are sharp, so the outer rule is cut there too.
  std::vector<double> breaks = activation_breaks(phi.act->kinks, mu, v);
  if (c > 0)
    for (double k : phi.act->kinks)
      for (int t = -8; t <= 8; ++t)
        breaks.push_back(((k - mu) / c + 0.75 * t * std::sqrt(v * (1 - c * c)) / c) / sd);
  const GaussianRule outer = gaussian_rule(breaks);
  std::vector<double> h(outer.z.size()), a1, d1;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = mu + sd * outer.z[i];
  phi.eval(h, a1, d1);
  std::vector<double> h2, a2, d2;
  GaussianRule inner;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (outer.w[i] < 1e-18) continue;  // |z1| beyond 8.7: below every digit we keep
    const double mean = mu + c * sd * outer.z[i];
    double ea = 0, ed = 0;
    if (v_cond < kTinyVar) {
      ea = phi.value(mean);
      ed = phi.slope(mean);
    } else {
      const double s = std::sqrt(v_cond);
      // 8 points a piece and |z| < 8 suffice here (error below 1e-8; tests/theory/quadrature_test.cc).
      gaussian_rule(activation_breaks(phi.act->kinks, mean, v_cond), 8, 8.0, inner);
      h2.resize(inner.z.size());
      for (std::size_t k = 0; k < h2.size(); ++k) h2[k] = mean + s * inner.z[k];
      phi.eval(h2, a2, d2);
      ea = inner.expect(a2);
      ed = inner.expect(d2);
    }
    m.phiphi += outer.w[i] * a1[i] * ea;
    m.dphidphi += outer.w[i] * d1[i] * ed;
  }
  return m;
}

}  // namespace

Moments1 expect1(const Phi& phi, double mu, double v, ExpectMethod method) {
  Moments1 m;
  if (method == ExpectMethod::automatic && mu == 0 && closed_form1(phi, v, m)) return m;
  return quad1(phi, mu, v);
}

Moments2 expect2(const Phi& phi, double mu, double v, double c, ExpectMethod method) {
  Moments2 m;
  if (method == ExpectMethod::automatic && mu == 0 && closed_form2(phi, v, c, m)) return m;
  return quad2(phi, mu, v, c);
}

}  // namespace gf
