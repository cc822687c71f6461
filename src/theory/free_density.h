#pragma once
// The spectral density of J J^T for J = D_L W_L ... D_1 W_1 (D_l = diag(phi'(h_l)), square
// layers, width -> infinity) by free probability (Pennington, Schoenholz & Ganguli 2017,
// "Resurrecting the sigmoid in deep learning through dynamical isometry", sec. 3-4; Pennington,
// Schoenholz & Ganguli 2018, "The emergence of spectral universality in deep networks"). With
// the moment generating function M_X(z) = E[X z / (1 - X z)] = sum_k m_k z^k, its inverse
// chi_X = M_X^{-1} and the S-transform S_X(m) = chi_X(m) (1 + m) / m, S-transforms of freely
// independent factors multiply:
//   S_{JJ^T}(m) = prod_l S_{D_l^2}(m) S_{W_l W_l^T}(m),
//   S_{WW^T} = 1 / sigma_w2 (orthogonal), 1 / (sigma_w2 (1 + m)) (iid, Marchenko-Pastur),
//   S_{D^2}(m) = chi_{D^2}(m) (1 + m) / m, with M_{D^2}(z) = E[d^2 z / (1 - d^2 z)], d = phi'(h),
// h ~ N(mu, q_l) (the expectation by the project's Gaussian quadrature). The density follows
// from chi_{JJ^T}(m) = m S_{JJ^T}(m) / (1 + m): at zeta = x (1 + i eps) solve
// chi_{JJ^T}(m) = 1 / zeta for m (= M(1/zeta)), then G(zeta) = (m + 1) / zeta (the Stieltjes
// transform E[1 / (zeta - X)]) and rho(x) = -Im G / pi.
//
// Numerics: m(zeta) is analytic in the upper half-plane and ~ m_1 / zeta for large zeta, so it is
// followed by continuation: start far above the support, where m is small, and step x down a
// log grid just above the real axis (eps = 1e-7: the density is smoothed by a Cauchy kernel of
// relative width 1e-7), with complex Newton on log chi(m) + log zeta = 0 (the log's imaginary
// part wrapped into (-pi, pi], so large products neither overflow nor pick a branch) and, inside
// it, complex Newton for each layer's z_l = chi_{D_l^2}(m), each started from its value at the
// previous x. A step whose Newton fails or lands on a negative density (the conjugate branch,
// past a square-root edge) is halved, to 1/1024 of the grid step. At the identity (d = 1) this
// reproduces Fuss-Catalan (tests/theory/free_density_test.cc).
//
// An atom: where phi' = 0 with probability p_l (relu: 1/2), D_l^2, and with it J J^T, has mass at
// 0: the free product's is max_l p_l (Belinschi 2003, "The atoms of the free multiplicative
// convolution of two probability distributions"): relu's J has rank n/2 at any depth, not
// n 2^-L, since the W_l mix the zeroed coordinates. The density here is the rest, of mass 1 - atom.
#include <string>
#include <vector>

#include "theory/gaussian_expect.h"

namespace gf {

// One layer D_l W_l: the law of d^2 = phi'(h)^2 as values and probabilities (equal values merged,
// zeros taken out into zero_mass), and the weights' variance and kind.
struct FreeFactor {
  std::vector<double> d2, w;
  double zero_mass = 0;
  double sigma_w2 = 1;
  bool orthogonal = false;
};
// h ~ N(mu, q), by the same quadrature as expect1 (cut at phi's kinks).
FreeFactor free_factor(const Phi& phi, double mu, double q, double sigma_w2, bool orthogonal);

struct FreeDensity {
  std::vector<double> log10_x;     // ascending, a regular grid
  std::vector<double> per_decade;  // the density of log10 x: rho(x) x ln 10
  double atom = 0;                 // mass at x = 0 (not in per_decade)
  double m1 = 0;                   // the mean E[x] = prod_l sigma_w2_l E[d_l^2], where the sweep starts from
  std::string error;               // non-empty: the continuation failed (the grid holds what came before)
};

// From far above the support down to log10_lo, `per_decade` grid points per decade of x. The sweep
// stops early below the support once the density has been below 1e-12 for two decades. The result
// checks itself: its mean within 1% and var/mean^2 within 2% of the closed forms (jacobian_theory.h),
// else `error` says so. Known to fail that way: laws of phi'^2 without a density peak at their top
// (softplus, silu with orthogonal weights), and atoms away from 0 (hard_tanh with orthogonal weights).
FreeDensity free_density(const std::vector<FreeFactor>& layers, double log10_lo, int per_decade = 50);

// P(X <= x) for the density's law (atom included), integrating from the top (trapezoid in log10 x).
double free_cdf(const FreeDensity& d, double x);

}  // namespace gf
