#include "theory/free_density.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <fmt/format.h>
#include <numbers>

#include "theory/quadrature.h"

namespace gf {

using cplx = std::complex<double>;

FreeFactor free_factor(const Phi& phi, double mu, double q, double sigma_w2, bool orthogonal) {
  FreeFactor f;
  f.sigma_w2 = sigma_w2;
  f.orthogonal = orthogonal;
  const double v = std::max(q, 1e-12), sd = std::sqrt(v);
  const GaussianRule rule = gaussian_rule(activation_breaks(phi.act->kinks, mu, v));
  std::vector<double> h(rule.z.size()), a, d;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = mu + sd * rule.z[i];
  phi.eval(h, a, d);
  std::map<double, double> law;  // d^2 -> probability, equal values merged (relu: two)
  double total = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    total += rule.w[i];
    if (rule.w[i] < 1e-300) continue;
    law[d[i] * d[i]] += rule.w[i];
  }
  for (const auto& [d2, w] : law) {
    if (d2 == 0) {
      f.zero_mass = w / total;
      continue;
    }
    f.d2.push_back(d2);
    f.w.push_back(w / total);  // the quadrature's weights sum to 1 less the tail beyond |z| = 10
  }
  return f;
}

namespace {

// M_{D^2}(z) and its derivative.
void mgf(const FreeFactor& f, cplx z, cplx& M, cplx& dM) {
  M = dM = 0;
  for (std::size_t i = 0; i < f.d2.size(); ++i) {
    const cplx r = 1.0 / (1.0 - f.d2[i] * z);
    M += f.w[i] * f.d2[i] * z * r;
    dM += f.w[i] * f.d2[i] * r * r;
  }
}

// z = chi_{D^2}(m): M(z) = m by Newton from z (backtracking on |M(z) - m|).
bool invert_mgf(const FreeFactor& f, cplx m, cplx& z, cplx& dz_dm) {
  cplx M, dM;
  mgf(f, z, M, dM);
  double res = std::abs(M - m);
  for (int it = 0; it < 80; ++it) {
    if (res <= 1e-14 * std::max(std::abs(m), 1e-300)) {
      dz_dm = 1.0 / dM;
      return std::isfinite(z.real()) && std::isfinite(z.imag());
    }
    cplx step = (M - m) / dM;
    bool better = false;
    for (int k = 0; k < 30; ++k, step *= 0.5) {
      const cplx zt = z - step;
      cplx Mt, dMt;
      mgf(f, zt, Mt, dMt);
      const double rt = std::abs(Mt - m);
      if (rt < res) {
        z = zt, M = Mt, dM = dMt, res = rt;
        better = true;
        break;
      }
    }
    if (!better) break;
  }
  dz_dm = 1.0 / dM;
  return res <= 1e-10 * std::max(std::abs(m), 1e-300);
}

double wrap_pi(double a) { return a - 2 * std::numbers::pi * std::round(a / (2 * std::numbers::pi)); }

struct State {
  cplx m;
  std::vector<cplx> z;
  cplx dlogchi_dm = 1;  // at m: dm/dzeta = -1 / (zeta dlogchi/dm)
};

// log chi_{JJ^T}(m) + log zeta, and its derivative in m, with every z_l solved at m.
// chi = m / (1 + m) prod_l S_{D_l^2} S_{W_l}, S_{D^2} = z_l (1 + m) / m.
bool residual(const std::vector<FreeFactor>& layers, cplx log_zeta, State& s, cplx& r, cplx& dr) {
  const cplx m = s.m, lm = std::log(m), l1m = std::log(1.0 + m);
  r = lm - l1m + log_zeta;
  dr = 1.0 / m - 1.0 / (1.0 + m);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const FreeFactor& f = layers[l];
    cplx dz;
    if (!invert_mgf(f, m, s.z[l], dz)) return false;
    r += l1m - lm + std::log(s.z[l]) - std::log(f.sigma_w2);
    dr += 1.0 / (1.0 + m) - 1.0 / m + dz / s.z[l];
    if (!f.orthogonal) {
      r -= l1m;
      dr -= 1.0 / (1.0 + m);
    }
  }
  r.imag(wrap_pi(r.imag()));
  return std::isfinite(r.real()) && std::isfinite(r.imag());
}

constexpr double kEps = 1e-7;  // zeta = x (1 + i kEps)

cplx zeta_of(double u) { return std::pow(10.0, u) * cplx(1, kEps); }

// Newton for m at x = 10^u, from s (updated on success).
bool solve_at(const std::vector<FreeFactor>& layers, double u, State& s) {
  const cplx zeta = zeta_of(u), log_zeta = std::log(zeta);
  State t = s;
  cplx r, dr;
  if (!residual(layers, log_zeta, t, r, dr)) return false;
  for (int it = 0; it < 60; ++it) {
    if (std::abs(r) < 1e-12) {
      t.dlogchi_dm = dr;
      s = t;
      return true;
    }
    cplx step = r / dr;
    bool better = false;
    for (int k = 0; k < 30; ++k, step *= 0.5) {
      State tt = t;
      tt.m = t.m - step;
      cplx rt, drt;
      if (residual(layers, log_zeta, tt, rt, drt) && std::abs(rt) < std::abs(r)) {
        t = tt, r = rt, dr = drt;
        better = true;
        break;
      }
    }
    if (!better) break;  // rounding: near x -> 0, 1 + m keeps only the digits m has beyond -1
  }
  if (std::abs(r) < 1e-8) {
    t.dlogchi_dm = dr;
    s = t;
    return true;
  }
  return false;
}

// rho x ln 10 = -Im G x ln 10 / pi with G = (m + 1) / x: dividing by the real x rather than by
// zeta keeps the smoothing out of all but m, whose imaginary part off the support is O(eps m);
// (m + 1) / zeta would add eps (m + 1) / x, a floor of eps ln 10 / pi per decade far above the
// support, a Cauchy tail whose first moment diverges.
// Off the support m(x) is real and Im m(zeta) ~ eps x m'(x), a floor whose moments grow with x;
// m(x) ~ m(zeta) - i eps x dm/dzeta removes it to O(eps^2) (on the support it moves rho by O(eps)).
double per_decade_of(double u, const State& s) {
  const cplx zeta = zeta_of(u), dm_dzeta = -1.0 / (zeta * s.dlogchi_dm);
  const cplx m = s.m - (zeta - std::pow(10.0, u)) * dm_dzeta;
  // Below 1e-9 |m| what is left of Im m is Newton's rounding (its residual is 1e-12), which far
  // above a wide support (a deep Gaussian net's bound is 4^L prod sigma_w2 away) would add x^2
  // times it to the second moment.
  if (-m.imag() < 1e-9 * std::abs(m)) return 0;
  return -m.imag() / std::numbers::pi * std::numbers::ln10;
}

}  // namespace

FreeDensity free_density(const std::vector<FreeFactor>& layers, double log10_lo, int per_decade) {
  FreeDensity out;
  const double h = 1.0 / per_decade;
  // The mean, and the top of the support: ||J||^2 <= prod_l max d_l^2 ||W_l||^2, ||W W^T|| <= 4 sigma_w2 (iid), sigma_w2 (orthogonal).
  double log10_top = 0, log10_m1 = 0;
  for (const FreeFactor& f : layers) {
    double mu1 = 0, dmax = 0;
    for (std::size_t i = 0; i < f.d2.size(); ++i) {
      mu1 += f.w[i] * f.d2[i];
      dmax = std::max(dmax, f.d2[i]);
    }
    out.atom = std::max(out.atom, f.zero_mass);
    log10_m1 += std::log10(f.sigma_w2 * mu1);
    log10_top += std::log10(f.sigma_w2 * dmax * (f.orthogonal ? 1 : 4));
  }
  out.m1 = std::pow(10.0, log10_m1);
  const double u_top = std::ceil((log10_top + 0.1) * per_decade) / per_decade;
  State s;
  // Far above the support m = M(1/zeta) ~ m_1 / zeta, and z_l ~ m / E[d_l^2].
  s.m = out.m1 / zeta_of(u_top);
  for (const FreeFactor& f : layers) {
    double mu1 = 0;
    for (std::size_t i = 0; i < f.d2.size(); ++i) mu1 += f.w[i] * f.d2[i];
    s.z.push_back(s.m / mu1);
  }
  if (!solve_at(layers, u_top, s)) {
    out.error = "no solution far above the support";
    return out;
  }
  std::vector<double> u_grid, y_grid;
  u_grid.push_back(u_top);
  y_grid.push_back(per_decade_of(u_top, s));
  double u = u_top, peak = 0;
  int quiet = 0;
  bool stalled = false;
  for (int k = 1; u_top - k * h >= log10_lo - 1e-12; ++k) {
    const double target = u_top - k * h;
    double step = u - target;
    while (u > target + 1e-15) {
      step = std::min(step, u - target);
      State t = s;
      const double next = u - step;
      bool ok = solve_at(layers, next, t);
      if (ok) {
        const double y = per_decade_of(next, t);
        const double jump = std::abs(t.m - s.m) / std::max({std::abs(s.m), std::abs(1.0 + s.m), 0.05});
        ok = y > -1e-9 && (jump < 0.3 || step < h / 1000);
      }
      if (ok) {
        s = t;
        u = next;
        step *= 2;
      } else if (step > h / 1000) {
        step /= 2;
      } else {
        stalled = true;
        break;
      }
    }
    if (stalled) {
      // Near x -> 0 (or an atom) 1 + m, or 1 + m / atom, cancel to a few digits and Newton stops
      // converging: the grid ends here if it already holds all but 1e-3 of the continuous mass.
      double mass = 0;
      for (std::size_t i = 1; i < u_grid.size(); ++i) mass += h * (y_grid[i - 1] + y_grid[i]) / 2;
      if (mass < (1 - out.atom) * (1 - 1e-3))
        out.error = fmt::format("the continuation stalled at log10 x = {:.4g} with {:.4g} of the mass above", u, mass);
      break;
    }
    const double y = std::max(0.0, per_decade_of(target, s));
    u_grid.push_back(target);
    y_grid.push_back(y);
    peak = std::max(peak, y);
    quiet = peak > 1e-3 && y < 1e-12 * std::max(peak, 1.0) ? quiet + 1 : 0;
    if (quiet > 2 * per_decade) break;  // below the support (orthogonal weights leave a gap at 0)
  }
  // Its own check: the first two moments against those the S-transform's first coefficients give
  // (jacobian_theory.h): m_1 = prod_l sigma_w2 mu_1, m_2 / m_1^2 - 1 = sum_l (mu_2 / mu_1^2 - 1 - s_1).
  // A continuation that slid onto a wrong branch (a law of phi'^2 whose density vanishes at its top,
  // as softplus's, leaves the discretised M_{D^2} a real root beyond every x) fails it by far.
  if (out.error.empty()) {
    double var_rel = 0, g1 = 0, g2 = 0;
    for (const FreeFactor& f : layers) {
      double mu1 = 0, mu2 = 0;
      for (std::size_t i = 0; i < f.d2.size(); ++i) {
        mu1 += f.w[i] * f.d2[i];
        mu2 += f.w[i] * f.d2[i] * f.d2[i];
      }
      var_rel += mu2 / (mu1 * mu1) - 1 + (f.orthogonal ? 0 : 1);
    }
    for (std::size_t i = 1; i < u_grid.size(); ++i) {
      const double a = u_grid[i - 1], b = u_grid[i];  // descending
      const double xa = std::pow(10.0, a - log10_m1), xb = std::pow(10.0, b - log10_m1);
      g1 += (a - b) * (xa * y_grid[i - 1] + xb * y_grid[i]) / 2;
      g2 += (a - b) * (xa * xa * y_grid[i - 1] + xb * xb * y_grid[i]) / 2;
    }
    if (!(std::fabs(g1 - 1) < 1e-2 && std::fabs(g2 / (g1 * g1) - 1 - var_rel) < 2e-2 * (1 + var_rel)))
      out.error = fmt::format("it fails its check: mean {:.4g} x the closed form's, var/mean^2 {:.4g} against {:.4g}",
                              g1, g2 / (g1 * g1) - 1, var_rel);
  }
  std::reverse(u_grid.begin(), u_grid.end());
  std::reverse(y_grid.begin(), y_grid.end());
  out.log10_x = std::move(u_grid);
  out.per_decade = std::move(y_grid);
  return out;
}

double free_cdf(const FreeDensity& d, double x) {
  if (!(x > 0)) return x < 0 ? 0 : d.atom;
  const double u = std::log10(x);
  const std::size_t n = d.log10_x.size();
  if (n < 2 || u >= d.log10_x.back()) return 1;
  double above = 0;  // mass above x, by the trapezoid rule from the top
  for (std::size_t i = n - 1; i > 0; --i) {
    const double a = d.log10_x[i - 1], b = d.log10_x[i];
    if (a >= u) {
      above += (b - a) * (d.per_decade[i - 1] + d.per_decade[i]) / 2;
    } else {
      const double t = (u - a) / (b - a), yu = d.per_decade[i - 1] + t * (d.per_decade[i] - d.per_decade[i - 1]);
      above += (b - u) * (yu + d.per_decade[i]) / 2;
      break;
    }
  }
  return std::clamp(1 - above, 0.0, 1.0);
}

}  // namespace gf
