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
//
// A nonlinear plain stack of square dense layers: free probability's density (free_density.h;
// Pennington, Schoenholz & Ganguli 2017), each layer's D_l^2 the law of phi'(h)^2 at h ~ N(mu, q_l),
// q_l the mean-field variances of the layers (mean_field.h; the fixed point q* once the input's
// q_1 has settled), as n -> infinity.
#include <cmath>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "theory/free_density.h"

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
  enum class Kind { none, fuss_catalan, point_mass, free_probability } kind = Kind::none;
  int order = 0;              // L
  double scale_log10 = 0;     // log10 prod_l sigma_w2_l: s^2 = 10^scale_log10 x, x Fuss-Catalan
  FreeDensity density;        // free_probability: the density of log10 s^2 on a grid, and the atom at 0
  std::string why_not;        // kind none: why ("tanh is not linear", ...)
};
// log10_lo: how far down free_probability's grid goes (NaN: 12 decades below the mean s^2).
SpectrumPrediction predict_spectrum(const AnalysisConfig& c, const Activation& act, double log10_lo = NAN);

// The free factors D_l W_l of a plain stack of dense layers (each layer's own activation, at the
// mean-field q_l); empty with *why_not set where the model does not apply.
std::vector<FreeFactor> free_factors(const AnalysisConfig& c, const Activation& act, std::string* why_not);

}  // namespace gf
