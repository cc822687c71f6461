#include "theory/quadrature.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <numeric>

namespace gf {

namespace {

// Newton's method on P_m from Tricomi's initial guesses; P_m and P_m' by the three-term
// recurrence. Converges to full double precision in a few steps for every m we use.
LegendreRule make_legendre(int m) {
  LegendreRule r;
  r.x.resize(static_cast<std::size_t>(m));
  r.w.resize(static_cast<std::size_t>(m));
  for (int i = 0; i < m; ++i) {
    double x = std::cos(M_PI * (i + 0.75) / (m + 0.5));
    double dp = 1;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= m; ++k) {
        const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const double p = m == 1 ? x : p1, pm1 = m == 1 ? 1.0 : p0;
      dp = m * (x * p - pm1) / (x * x - 1);
      const double dx = p / dp;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    // Recompute P_m' at the converged node for the weight.
    double p0 = 1, p1 = x;
    for (int k = 2; k <= m; ++k) {
      const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = m == 1 ? 1.0 : m * (x * p1 - p0) / (x * x - 1);
    r.x[static_cast<std::size_t>(i)] = x;
    r.w[static_cast<std::size_t>(i)] = 2 / ((1 - x * x) * dp * dp);
  }
  return r;
}

}  // namespace

const LegendreRule& gauss_legendre(int m) {
  static std::array<LegendreRule, 65> cache;
  static std::once_flag once[65];
  m = std::clamp(m, 1, 64);
  std::call_once(once[m], [m] { cache[static_cast<std::size_t>(m)] = make_legendre(m); });
  return cache[static_cast<std::size_t>(m)];
}

double GaussianRule::expect(std::span<const double> f) const {
  double s = 0;
  for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * f[i];
  return s;
}

GaussianRule gaussian_rule(std::span<const double> breaks, int nodes) {
  GaussianRule r;
  gaussian_rule(breaks, nodes, kTail, r);
  return r;
}

void gaussian_rule(std::span<const double> breaks, int nodes, double tail, GaussianRule& r) {
  thread_local std::vector<double> cuts;
  cuts.clear();
  const int t = static_cast<int>(std::ceil(tail));
  for (int k = -t; k <= t; ++k) cuts.push_back(std::clamp<double>(k, -tail, tail));
  for (double b : breaks)
    if (std::isfinite(b) && b > -tail && b < tail) cuts.push_back(b);
  std::sort(cuts.begin(), cuts.end());
  const LegendreRule& gl = gauss_legendre(nodes);
  r.z.clear();
  r.w.clear();
  const double norm = 1 / std::sqrt(2 * M_PI);
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const double a = cuts[i], b = cuts[i + 1];
    if (b - a < 1e-14) continue;
    const double half = 0.5 * (b - a), mid = 0.5 * (a + b);
    for (std::size_t k = 0; k < gl.x.size(); ++k) {
      const double z = mid + half * gl.x[k];
      r.z.push_back(z);
      r.w.push_back(half * gl.w[k] * norm * std::exp(-0.5 * z * z));
    }
  }
}

std::vector<double> activation_breaks(std::span<const double> kinks, double mu, double v) {
  static constexpr double kPlaces[] = {0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16};
  std::vector<double> out;
  if (!(v > 0)) return out;
  const double s = std::sqrt(v);
  for (double k : kinks) out.push_back((k - mu) / s);
  for (double h : kPlaces) {
    out.push_back((h - mu) / s);
    if (h != 0) out.push_back((-h - mu) / s);
  }
  return out;
}

}  // namespace gf
