#pragma once
// The density of the eigenvalues of J J^T (the squared singular values s^2 of J = d a_L / d x),
// where theory gives it in closed form (analyze --plot-spectrum draws it over the histogram).
//
// A linear network of L square layers (n_0 = ... = n_L = n) with iid weights of variance
// sigma_w2_l / n: J = W_L ... W_1. As n -> infinity the eigenvalues of J J^T / prod_l sigma_w2_l
// follow the Fuss-Catalan distribution of order L, whose k-th moment is the Fuss-Catalan number
// binom((L+1)k, k) / (Lk + 1) (L = 1: Marchenko-Pastur at ratio 1; Penson & Zyczkowski 2011,
// "Product of Ginibre matrices: Fuss-Catalan and Raney distributions"). Its density has a
// parametric form (Haagerup & Moller 2013, "The law of large numbers for the free multiplicative
// convolution"; Neuschel 2014): for 0 < phi < pi/(L+1),
//   x(phi)      = sin((L+1)phi)^(L+1) / (sin(phi) sin(L phi)^L)      (pi/(L+1) -> 0: x from 0 to the edge)
//   rho(x(phi)) = (1/pi) sin(phi)^2 sin(L phi)^(L-1) / sin((L+1)phi)^L
// on the support [0, (L+1)^(L+1) / L^L]. (Written with a further 1/x, as it sometimes is, it is
// not a density: at L = 1 it is not Marchenko-Pastur's sqrt(x(4-x)) / (2 pi x), and its moments
// are not the Fuss-Catalan numbers; tests/theory/spectrum_theory_test.cc checks both.)
// With orthogonal weights J is sigma x an orthogonal matrix: every s^2 = prod_l sigma_w2_l.
#include <string>
#include <vector>

#include "core/analysis.h"

namespace gf {

double fuss_catalan_number(int order, int k);  // binom((L+1)k, k) / (Lk + 1)
double fuss_catalan_edge(int order);           // (L+1)^(L+1) / L^L, the support's right end

// One point of the density, at phi in (0, pi/(L+1)).
struct FussCatalanPoint {
  double x = 0;          // the eigenvalue
  double density = 0;    // rho(x)
  double per_decade = 0; // the density of log10 x: rho(x) x ln 10 (what a histogram of log10 s^2 estimates)
};
FussCatalanPoint fuss_catalan_point(int order, double phi);

// P(X <= x), by Simpson's rule over phi (the integrand rho |dx/dphi| is smooth and bounded); 0
// below the support, 1 above it.
double fuss_catalan_cdf(int order, double x);

// What analyze --plot-spectrum overlays for a run.
struct SpectrumPrediction {
  enum class Kind { none, fuss_catalan, point_mass } kind = Kind::none;
  int order = 0;              // L
  double scale_log10 = 0;     // log10 prod_l sigma_w2_l: s^2 = 10^scale_log10 x, x Fuss-Catalan
  std::string why_not;        // kind none: why ("tanh is not linear", ...)
};
SpectrumPrediction predict_spectrum(const AnalysisConfig& c, const Activation& act);

}  // namespace gf
