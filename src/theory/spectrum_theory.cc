#include "theory/spectrum_theory.h"

#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "theory/theory_compare.h"

namespace gf {

double fuss_catalan_number(int order, int k) {
  // binom((L+1)k, k) / (Lk + 1) as a running product, in double: exact for the small k used
  double binom = 1;
  for (int i = 1; i <= k; ++i) binom = binom * ((order + 1) * k - k + i) / i;
  return binom / (order * k + 1);
}

double fuss_catalan_edge(int order) {
  const double L = order;
  return std::pow(L + 1, L + 1) / std::pow(L, L);
}

FussCatalanPoint fuss_catalan_point(int order, double phi) {
  const double L = order;
  const double s1 = std::sin(phi), sl = std::sin(L * phi), sl1 = std::sin((L + 1) * phi);
  FussCatalanPoint p;
  p.x = std::pow(sl1, L + 1) / (s1 * std::pow(sl, L));
  p.density = s1 * s1 * std::pow(sl, L - 1) / (std::numbers::pi * std::pow(sl1, L));
  p.per_decade = std::numbers::ln10 * s1 * sl1 / (std::numbers::pi * sl);  // rho x ln 10, simplified
  return p;
}

namespace {

// rho(x(phi)) |dx/dphi| = rho x |d ln x / dphi|, with d ln x / dphi = (L+1)^2 cot((L+1)phi) -
// cot(phi) - L^2 cot(L phi); rho x = sin(phi) sin((L+1)phi) / (pi sin(L phi)) cancels the pole
// of the first cotangent: bounded on (0, pi/(L+1)], 0 at phi -> 0 (the soft edge).
double mass_per_phi(int order, double phi) {
  const double L = order;
  const double s1 = std::sin(phi), sl = std::sin(L * phi), sl1 = std::sin((L + 1) * phi);
  const double bracket = (L + 1) * (L + 1) * std::cos((L + 1) * phi) - sl1 * (std::cos(phi) / s1 + L * L * std::cos(L * phi) / sl);
  return s1 / (std::numbers::pi * sl) * std::fabs(bracket);
}

// The phi with x(phi) = x: x decreases monotonically from the edge (phi -> 0) to 0 (phi -> pi/(L+1)).
double phi_of(int order, double x) {
  double lo = 0, hi = std::numbers::pi / (order + 1);
  for (int it = 0; it < 200 && hi - lo > 1e-15; ++it) {
    const double mid = (lo + hi) / 2;
    (fuss_catalan_point(order, mid).x > x ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

}  // namespace

double fuss_catalan_cdf(int order, double x) {
  if (!(x > 0)) return 0;
  if (x >= fuss_catalan_edge(order)) return 1;
  // P(X <= x) = the mass from phi(x) to pi/(L+1), where x(phi) runs from x down to 0.
  const double a = phi_of(order, x), b = std::numbers::pi / (order + 1);
  const int n = 2000;  // even; the integrand is smooth, Simpson's error ~ h^4
  const double h = (b - a) / n;
  double sum = mass_per_phi(order, a) + mass_per_phi(order, b);
  for (int i = 1; i < n; ++i) sum += (i % 2 ? 4 : 2) * mass_per_phi(order, a + i * h);
  return std::min(1.0, sum * h / 3);
}

namespace {

// Where no closed form or free-probability density applies: why (empty: it does).
std::string plain_square_stack(const AnalysisConfig& c, const NetworkSpec& spec) {
  if (c.model && c.model_weights) return "the model's own weights are not random draws";
  for (Index l = 1; l <= spec.depth(); ++l) {
    const LayerOp& op = spec.op(l);
    if (op.kind != OpKind::dense || op.dropout != 0)
      return "the prediction is for a plain stack of dense layers (no residual blocks, norms or dropout)";
  }
  const std::vector<Index> w = spec.widths();
  for (const Index n : w)
    if (n != w[0]) return "the prediction is for square layers: --input-dim and every width equal";
  return "";
}

}  // namespace

std::vector<FreeFactor> free_factors(const AnalysisConfig& c, const Activation& act, std::string* why_not) {
  const NetworkSpec spec = network_spec(c, act);
  *why_not = plain_square_stack(c, spec);
  if (!why_not->empty()) return {};
  const MeanFieldModel m = mean_field_model(c, act);
  const std::vector<LayerTheory> layers = predict_layers(m);
  const bool orthogonal = spec.weight_init.dist == WeightDist::orthogonal;
  std::vector<FreeFactor> out;
  for (Index l = 1; l <= spec.depth(); ++l) {
    const LayerOp& op = spec.op(l);
    const auto i = static_cast<std::size_t>(l - 1);
    out.push_back(free_factor(Phi{op.activation, op.activation_param}, m.bias, layers[i].q, m.sigma_w2[i], orthogonal));
  }
  return out;
}

SpectrumPrediction predict_spectrum(const AnalysisConfig& c, const Activation& act, double log10_lo) {
  SpectrumPrediction p;
  const NetworkSpec spec = network_spec(c, act);
  p.why_not = plain_square_stack(c, spec);
  if (!p.why_not.empty()) return p;
  bool linear = true;
  for (Index l = 1; l <= spec.depth(); ++l) linear = linear && spec.op(l).activation->name == std::string("identity");
  p.order = static_cast<int>(spec.depth());
  if (linear) {
    const MeanFieldModel m = mean_field_model(c, act);
    for (double s : m.sigma_w2) p.scale_log10 += std::log10(s);
    p.kind = spec.weight_init.dist == WeightDist::orthogonal ? SpectrumPrediction::Kind::point_mass
                                                             : SpectrumPrediction::Kind::fuss_catalan;
    return p;
  }
  const std::vector<FreeFactor> f = free_factors(c, act, &p.why_not);
  for (const FreeFactor& l : f)
    if (l.d2.empty()) {
      p.why_not = "phi' is 0 at every pre-activation of a layer: J = 0";
      return p;
    }
  double log10_m1 = 0;
  for (const FreeFactor& l : f) {
    double mu1 = 0;
    for (std::size_t i = 0; i < l.d2.size(); ++i) mu1 += l.w[i] * l.d2[i];
    log10_m1 += std::log10(l.sigma_w2 * mu1);
  }
  p.density = free_density(f, std::isfinite(log10_lo) ? log10_lo : log10_m1 - 12);
  if (!p.density.error.empty() || p.density.log10_x.size() < 2) {
    p.why_not = "the free-probability density could not be solved numerically (" + p.density.error + ")";
    p.density = {};
    return p;
  }
  p.scale_log10 = log10_m1;
  p.kind = SpectrumPrediction::Kind::free_probability;
  return p;
}

}  // namespace gf
