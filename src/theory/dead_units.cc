#include "theory/dead_units.h"

#include <cmath>
#include <limits>

#include "core/stats.h"
#include "theory/quadrature.h"

namespace gf {

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x * M_SQRT1_2); }

// phi' is 0 on the whole piece if it is 0 at a handful of points across it (the pieces are
// where phi is smooth, so a flat piece is flat everywhere and a sloped one is not flat at all
// of these points).
bool flat_on(const Phi& phi, double lo, double hi) {
  std::vector<double> probes;
  if (std::isinf(lo) && std::isinf(hi)) probes = {-8, -2, -0.5, 0, 0.5, 2, 8};
  else if (std::isinf(lo)) probes = {hi - 0.5, hi - 2, hi - 8};
  else if (std::isinf(hi)) probes = {lo + 0.5, lo + 2, lo + 8};
  else probes = {lo + 0.25 * (hi - lo), lo + 0.5 * (hi - lo), lo + 0.75 * (hi - lo)};
  for (double x : probes)
    if (phi.slope(x) != 0) return false;
  return true;
}

}  // namespace

std::vector<Interval> dead_zone(const Phi& phi) {
  std::vector<double> ends{-kInf};
  for (double k : phi.act->kinks) ends.push_back(k);
  ends.push_back(kInf);
  std::vector<Interval> zone;
  for (std::size_t i = 0; i + 1 < ends.size(); ++i)
    if (flat_on(phi, ends[i], ends[i + 1])) zone.push_back({ends[i], ends[i + 1]});
  return zone;
}

double dead_unit_probability(std::span<const Interval> zone, double mu, double v,
                             double c, long long batch) {
  if (zone.empty() || batch <= 0) return 0;
  c = std::clamp(c, 0.0, 1.0);
  const double B = static_cast<double>(batch);
  const double shared = std::sqrt(v * c), own = std::sqrt(v * (1 - c));
  // P(h in the zone | z0), h ~ N(m, own^2).
  auto p_inside = [&](double m) {
    double p = 0;
    for (const Interval& iv : zone) {
      if (own == 0) {
        p += (m > iv.lo && m < iv.hi) ? 1.0 : 0.0;
        continue;
      }
      const double hi = std::isinf(iv.hi) ? 1.0 : normal_cdf((iv.hi - m) / own);
      const double lo = std::isinf(iv.lo) ? 0.0 : normal_cdf((iv.lo - m) / own);
      p += hi - lo;
    }
    return std::clamp(p, 0.0, 1.0);
  };
  if (shared == 0) return std::pow(p_inside(mu), B);
  // p^B falls from 1 to 0 where m crosses an end of the zone, over a few `own`: cut the z0 axis
  // there, at steps of own, so each piece of the integrand is smooth.
  std::vector<double> breaks;
  for (const Interval& iv : zone)
    for (double e : {iv.lo, iv.hi}) {
      if (std::isinf(e)) continue;
      for (int t = -12; t <= 12; ++t) breaks.push_back((e - mu + 0.5 * t * own) / shared);
    }
  const GaussianRule rule = gaussian_rule(breaks);
  double total = 0;
  for (std::size_t i = 0; i < rule.z.size(); ++i)
    total += rule.w[i] * std::pow(p_inside(mu + shared * rule.z[i]), B);
  return std::clamp(total, 0.0, 1.0);
}

double born_dead_probability(std::span<const long long> widths) {
  double log_alive = 0;  // in logs, so that 2^-256 still counts
  for (long long n : widths) log_alive += std::log1p(-std::ldexp(1.0, -static_cast<int>(std::min<long long>(n, 2000))));
  return -std::expm1(log_alive);
}

}  // namespace gf
