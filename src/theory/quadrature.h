#pragma once
// Gaussian expectations E_z[f(z)], z ~ N(0,1), by piecewise Gauss-Legendre quadrature: the
// line is cut at fixed steps and at every place where f is not smooth (an activation's kinks,
// mapped into z), and each piece gets its own Gauss-Legendre rule. Plain Gauss-Hermite treats
// f as a polynomial and is off by 1e-3 to 5e-2 for elu, selu or hard_tanh; splitting at the
// kinks makes every piece smooth, and the error falls below 1e-12 (tests/theory/quadrature_test.cc).
#include <span>
#include <vector>

namespace gf {

// Nodes and weights of the m-point Gauss-Legendre rule on [-1, 1].
struct LegendreRule {
  std::vector<double> x, w;
};
const LegendreRule& gauss_legendre(int m);  // cached; m in [1, 64]

// E[f(z)] ~ sum_i w[i] f(z[i]). Weights include the normal density and sum to 1 up to the
// mass beyond |z| = kTail (below 1e-23).
struct GaussianRule {
  std::vector<double> z, w;
  double expect(std::span<const double> f) const;  // sum_i w[i] f[i]
};

inline constexpr double kTail = 10.0;

// A rule cut at unit steps of z and at `breaks` (any order; those outside (-kTail, kTail) are
// ignored), with `nodes` Gauss-Legendre points per piece.
GaussianRule gaussian_rule(std::span<const double> breaks, int nodes = 12);
// The same into `out` (reusing its memory), over |z| < tail only.
void gaussian_rule(std::span<const double> breaks, int nodes, double tail, GaussianRule& out);

// Where the expectation of a function of h = mu + sqrt(v) z should be cut, in z: at the
// activation's kinks, and at fixed places of h (0, +-0.5, +-1, +-2 ... +-16) so that a function
// that bends within a few units of h = 0 (tanh at large v) is resolved however narrow that
// region is in z.
std::vector<double> activation_breaks(std::span<const double> kinks, double mu, double v);

}  // namespace gf
