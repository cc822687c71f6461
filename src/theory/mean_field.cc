#include "theory/mean_field.h"

#include <cmath>
#include <limits>

#include "base/interrupt.h"

namespace gf {

InputMoments input_moments(InputKind k) {
  switch (k) {
    case InputKind::normal: return {1.0, 0.0};
    case InputKind::uniform: return {1.0 / 3, 0.0};
    case InputKind::positive: return {1.0 / 3, 0.25, 0.5};
  }
  return {};
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::ordered: return "ordered";
    case Phase::critical: return "critical";
    case Phase::chaotic: return "chaotic";
  }
  return "?";
}

Phase phase_of(double chi_1, double tol) {
  return chi_1 < 1 - tol ? Phase::ordered : chi_1 > 1 + tol ? Phase::chaotic : Phase::critical;
}

double depth_scale(double chi) {
  if (!(chi > 0)) return 0;
  if (std::abs(chi - 1) < 1e-9) return kInf;  // beyond 1e9 layers: no scale at all
  return -1 / std::log(chi);
}

namespace {

// Where layer l's output goes (residual_stack's layout): into the residual stream (a block's
// last layer, or the input projection before the first block), or straight to layer l + 1.
bool writes_stream(const MeanFieldModel& m, Index l) {
  if (m.ops.empty()) return false;
  const Index L = m.depth();
  return m.ops[static_cast<std::size_t>(l - 1)].kind == OpKind::skip_add ||
         (l < L && m.ops[static_cast<std::size_t>(l)].kind == OpKind::branch_in);
}

// log10(10^a + 10^b) without overflow; -inf + -inf is -inf.
double log10_sum(double a, double b) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  if (hi == -kInf) return hi;
  return hi + std::log10(1 + std::pow(10.0, lo - hi));
}

// A norm u = N(h) (gain 1 and shift 0, as at init), each h_i ~ N(bias, q) with correlation c
// between two inputs: u's mean, variance and correlation between inputs, and sigma^2, the
// variance (LayerNorm, BatchNorm) or mean square (RMSNorm) plus eps that it divides by.
struct NormMoments {
  double mu = 0, v = 0, sigma2 = 0, c = 0;
};

// LayerNorm and RMSNorm normalise each sample over its n units, keeping the correlation between
// inputs. BatchNorm normalises each unit over the batch, in the large-batch limit of Yang et al.
// 2019 (ICLR, "A Mean Field Theory of Batch Normalization"): the batch's variance of h_i is its
// within-batch part q (1 - c) (the shared part, the unit's mean over the batch, is removed with
// the bias), and the samples leave it uncorrelated (their BSB1 fixed point has c = -1/(B-1)).
NormMoments norm_moments(NormKind kind, double q, double c, double bias, double eps, double n) {
  if (kind == NormKind::rms) {
    const double sigma2 = q + bias * bias + eps;
    return {bias / std::sqrt(sigma2), q / sigma2, sigma2, c};
  }
  if (kind == NormKind::batch) {
    const double var = q * (1 - c);
    return {0, var / (var + eps), var + eps, 0};
  }
  const double var = q * (n - 1) / n;  // the biased variance over n units; the bias cancels
  return {0, var / (var + eps), var + eps, c};
}

// ||dL/dh||^2 / ||dL/du||^2 across the norm for du = phi'(u) g, g of random direction:
// dh = (du - mean(du) - u mean(du u)) / sigma (LayerNorm; RMSNorm without the mean), which takes
// from E||du||^2 the share [1 + (2 - E u^2) E[u^2 phi'^2] / E[phi'^2]] / n (RMSNorm: no 1).
// BatchNorm takes the same two directions out of each unit's B gradients, a share O(1/B) that
// the large-batch limit drops. So through BatchNorm chi = sigma_w2 E[phi'^2] / (sigma_w2
// Var[phi]) = E[phi'(u)^2] / Var[phi(u)] whatever the init: above 1 for every phi, which is
// their gradient explosion (pi / (pi - 1) for relu; batchnorm_theory.h). At finite B the
// measured rate runs above it by about 1% at B = 128 (tests/theory), which the limit leaves out.
double norm_grad_ratio2(NormKind kind, const NormMoments& u, const Moments1& m1, double n) {
  if (kind == NormKind::batch) return 1 / u.sigma2;
  const double u2 = u.mu * u.mu + u.v;
  const double u2dphi2 = u.mu * u.mu * m1.dphi2 + 2 * u.mu * std::sqrt(u.v) * m1.zdphi2 + u.v * m1.z2dphi2;
  const double along_u = m1.dphi2 > 0 ? (2 - u2) * u2dphi2 / m1.dphi2 : 1;
  const double removed = ((kind == NormKind::rms ? 0.0 : 1.0) + along_u) / n;
  return (1 - removed) / u.sigma2;
}

// A residual net's norm (--norm-position): pre, u = N(s) is what the branch reads; post, the
// block's output is N(s + alpha F(s)). Its input x, the stream or the sum, has second moment m2,
// cross moment `cross` (two inputs) and mean `mean` per unit; the norm's output replaces them, and
// `ratio2` is ||dL/dx||^2 / ||dL/du||^2 for a du of random direction (at infinite width
// independent of u: the share the Jacobian removes is that of phi' = 1 in norm_grad_ratio2, 1/n
// along the mean (LayerNorm) and E u^2 (2 - E u^2) / n along u).
struct StreamNorm {
  double m2 = 0, cross = 0, mean = 0, ratio2 = 1;
};
StreamNorm stream_norm(NormKind kind, double m2, double cross, double mean, double eps, double n) {
  const double var = std::max(m2 - mean * mean, 0.0);
  const double c = var > 0 ? std::clamp((cross - mean * mean) / var, -1.0, 1.0) : 1.0;
  const NormMoments u = norm_moments(kind, var, c, mean, eps, n);
  Moments1 linear;  // phi(u) = u: phi' = 1
  linear.dphi2 = 1;
  linear.zdphi2 = 0;
  linear.z2dphi2 = 1;
  return {u.mu * u.mu + u.v, u.mu * u.mu + u.v * u.c, u.mu, norm_grad_ratio2(kind, u, linear, n)};
}

}  // namespace

std::vector<LayerTheory> predict_layers(const MeanFieldModel& m, std::vector<BlockTheory>* blocks) {
  const Index L = m.depth();
  std::vector<LayerTheory> out(static_cast<std::size_t>(L));
  auto op = [&](Index l) -> const LayerOp* { return m.ops.empty() ? nullptr : &m.ops[static_cast<std::size_t>(l - 1)]; };
  auto phi_of_layer = [&](Index l) { return op(l) ? Phi{op(l)->activation, op(l)->activation_param} : m.phi; };
  auto sw2 = [&](Index l) { return m.sigma_w2[static_cast<std::size_t>(l - 1)]; };
  auto keep = [&](Index l) { return op(l) ? 1 - op(l)->dropout : 1.0; };  // dropout's rho (mean_field.h)
  // Forward: the second moment E[a^2] and the cross moment E[a a'] (two inputs) of what the next
  // layer reads, and of the residual stream with its mean (a constant bias shifts it per block).
  double in_m2 = m.input_m2, in_cross = m.input_cross;
  double stream_m2 = m.input_m2, stream_cross = m.input_cross, stream_mean = m.input_mean;
  // What of layer l's input a_{l-1} reaches d W_l = d h_l^T a_{l-1}: E[a^2], or, where BatchNorm
  // centres d h_l over the batch, only a's part that varies over it, E[a^2] - E[a a'].
  std::vector<double> reads_m2(static_cast<std::size_t>(L));
  std::vector<double> dphi2(static_cast<std::size_t>(L));     // E[phi'(h_l)^2] / rho_l: the slope with the mask
  std::vector<double> ratio2(static_cast<std::size_t>(L), 1.0);  // ||dL/dh_l||^2 / ||dL/du_l||^2 across a norm
  std::vector<BlockTheory> block_out;
  // Residual nets with a norm: ||dL/dx||^2 / ||dL/du||^2 across each block's norm (1 without).
  std::vector<double> block_norm_ratio2;
  Phi zone_phi{};
  std::vector<Interval> zone;
  for (Index l = 1; l <= L; ++l) {
    throw_if_interrupted();  // a layer's quadratures take about a millisecond: -d 20000 is seconds
    LayerTheory& t = out[static_cast<std::size_t>(l - 1)];
    const Phi phi = phi_of_layer(l);
    if (op(l) && op(l)->kind == OpKind::branch_in) {
      in_m2 = stream_m2;
      in_cross = stream_cross;
      block_out.push_back({op(l)->block, std::sqrt(stream_m2), 0, kNaN});
      block_norm_ratio2.push_back(1.0);
      if (op(l)->norm != NormKind::none) {
        // Pre-LN (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture",
        // ICML; their Lemma 2 for the stream's linear growth): the branch reads u = N(s), of
        // second moment 1 (less eps) whatever s's, so every block adds the same alpha^2 E[F^2].
        const double n = m.widths.empty() ? 1.0 : static_cast<double>(m.widths[static_cast<std::size_t>(l - 1)]);
        const StreamNorm u = stream_norm(op(l)->norm, stream_m2, stream_cross, stream_mean, op(l)->norm_eps, n);
        in_m2 = u.m2;
        in_cross = u.cross;
        block_norm_ratio2.back() = u.ratio2;
      }
    }
    const double q = sw2(l) * in_m2 + m.sigma_b2;
    const double c = q > 0 ? std::clamp((sw2(l) * in_cross + m.sigma_b2) / q, -1.0, 1.0) : 1.0;
    // phi's input: h ~ N(bias, q), or after a norm u = N(h), whose variance is fixed whatever q
    // (norm_moments).
    const NormKind norm = op(l) && op(l)->kind == OpKind::dense_norm ? op(l)->norm : NormKind::none;
    reads_m2[static_cast<std::size_t>(l - 1)] = norm == NormKind::batch ? in_m2 - in_cross : in_m2;
    const double n = m.widths.empty() ? 1.0 : static_cast<double>(m.widths[static_cast<std::size_t>(l)]);
    const NormMoments u =
        norm == NormKind::none ? NormMoments{m.bias, q, 1, c} : norm_moments(norm, q, c, m.bias, op(l)->norm_eps, n);
    t.layer = l;
    t.q = u.v;
    t.c = c;
    const Moments1 m1 = expect1(phi, u.mu, u.v);
    t.act_m2 = m1.phi2;
    if (l == 1 || phi.act != zone_phi.act || phi.param != zone_phi.param) zone = dead_zone(zone_phi = phi);
    // Through BatchNorm every unit has mean 0 and variance 1 over the batch: it cannot be flat
    // on all of it (relu's u <= 0 everywhere, or hard_tanh's |u| >= 1, would break one of them).
    t.dead_units_frac = norm == NormKind::batch ? 0 : dead_unit_probability(zone, u.mu, u.v, c, m.batch);
    // Equal inputs have equal outputs: no quadrature at c = 1.
    const double act_cross = u.c < 1 && u.v > 0 ? expect2(phi, u.mu, u.v, u.c).phiphi : m1.phi2;
    // Dropout after phi: the next layer reads a = phi(h) m / rho, E[a^2] = E[phi^2] / rho, while
    // two inputs' independent masks leave E[a a'] = E[phi phi'] (no 1/rho), and the backward
    // slope phi' m / rho has E[(phi' m / rho)^2] = E[phi'^2] / rho.
    in_m2 = m1.phi2 / keep(l);
    in_cross = act_cross;
    dphi2[static_cast<std::size_t>(l - 1)] = m1.dphi2 / keep(l);
    t.chi = l < L && !writes_stream(m, l) ? sw2(l + 1) * m1.dphi2 / keep(l) : kNaN;
    if (norm != NormKind::none) {
      double& r = ratio2[static_cast<std::size_t>(l - 1)];
      r = norm_grad_ratio2(norm, u, m1, n);
      t.norm_grad_ratio_log10 = 0.5 * std::log10(r);
      if (l > 1) out[static_cast<std::size_t>(l - 2)].chi *= r;  // du_{l-1} reaches u_l through h_l
    }
    if (!writes_stream(m, l)) continue;
    if (op(l)->kind != OpKind::skip_add) {  // the input projection: its output is the stream
      stream_m2 = in_m2;
      stream_cross = act_cross;
      stream_mean = m.bias;
      continue;
    }
    // s' = s + alpha F: F's channel variance over that of s is Brock et al.'s branch ratio.
    const double a = op(l)->alpha, shift = 2 * a * stream_mean * m.bias;
    block_out.back().branch_ratio = a * a * (m1.phi2 - act_cross) / (stream_m2 - stream_cross);
    stream_m2 += shift + a * a * m1.phi2;
    stream_cross += shift + a * a * act_cross;
    stream_mean += a * m.bias;
    if (op(l)->norm != NormKind::none) {
      // Post-LN (Xiong et al. 2020): s' = N(s + alpha F(s)) is renormalised every block.
      const StreamNorm u = stream_norm(op(l)->norm, stream_m2, stream_cross, stream_mean, op(l)->norm_eps, n);
      stream_m2 = u.m2;
      stream_cross = u.cross;
      stream_mean = u.mean;
      block_norm_ratio2.back() = u.ratio2;
    }
  }
  // Backward, in log10 of norms (exact at any depth), from layer L: a layer feeding layer l + 1
  // multiplies by sqrt(chi_l); a block's last layer takes alpha times the stream's gradient
  // after the block, and its first layer adds sigma_w2 ||dh||^2 to the stream's squared norm.
  double g_stream = 0;  // log10 ||dL/ds|| of the stream after the current block (the head reads it)
  std::vector<double> g(static_cast<std::size_t>(L + 1), 0.0);  // log10 ||dL/dh_l|| at [l]
  for (Index l = L; l >= 1; --l) {
    const LayerTheory& t = out[static_cast<std::size_t>(l - 1)];
    double& gl = g[static_cast<std::size_t>(l)];
    // Each block's norm's backward, ||dL/dx||^2 = ratio2 ||dL/du||^2: post, first (d s' to
    // d (s + alpha F), for both paths); pre, last (the branch's d u to its share of d s).
    const bool post_norm = op(l) && op(l)->kind == OpKind::skip_add && op(l)->norm != NormKind::none;
    const bool pre_norm = op(l) && op(l)->kind == OpKind::branch_in && op(l)->norm != NormKind::none;
    auto block_ratio2 = [&] { return block_norm_ratio2[static_cast<std::size_t>(op(l)->block - 1)]; };
    if (post_norm) g_stream += 0.5 * std::log10(block_ratio2());
    if (writes_stream(m, l)) {
      gl = g_stream + 0.5 * std::log10(dphi2[static_cast<std::size_t>(l - 1)]);  // linear in residual_stack: + 0
      if (op(l)->kind == OpKind::skip_add) gl += std::log10(std::abs(op(l)->alpha));
    } else if (l < L) {
      gl = g[static_cast<std::size_t>(l + 1)] + 0.5 * std::log10(t.chi);
    }
    if (op(l) && op(l)->kind == OpKind::branch_in) {
      // ||dL/ds||^2 = ||dL/ds'||^2 + sigma_w2 ||dL/dh_1||^2 [x ratio2 across a pre-norm]: with
      // u = N(s) of unit second moment, 1 + alpha^2 chi_branch / E s^2 per Pre-LN block.
      const double across = pre_norm ? std::log10(block_ratio2()) : 0.0;
      g_stream = log10_sum(2 * g_stream, std::log10(sw2(l)) + 2 * gl + across) / 2;
      block_out[static_cast<std::size_t>(op(l)->block - 1)].grad_stream_rel_log10 = g_stream;
    }
  }
  const double g_last = g[static_cast<std::size_t>(L)];
  for (Index l = 1; l <= L; ++l) out[static_cast<std::size_t>(l - 1)].grad_preact_rel_log10 = g[static_cast<std::size_t>(l)] - g_last;
  if (!block_out.empty()) {
    const double last_block = block_out.back().grad_stream_rel_log10;
    for (BlockTheory& b : block_out) b.grad_stream_rel_log10 -= last_block;
  }
  if (blocks) *blocks = std::move(block_out);
  // ||a_{l-1}||^2 per sample = n_{l-1} E[a_{l-1}^2] (reads_m2); the input's for layer 1.
  auto input_norm2 = [&](Index l) {
    const double n = m.widths.empty() ? 1.0 : static_cast<double>(m.widths[static_cast<std::size_t>(l - 1)]);
    return n * reads_m2[static_cast<std::size_t>(l - 1)];
  };
  // dW_l = dh_l a_{l-1}^T, and dh_l is du_l through the layer's norm.
  auto dh_over_du = [&](Index l) { return 0.5 * std::log10(ratio2[static_cast<std::size_t>(l - 1)]); };
  const double last = dh_over_du(L) + 0.5 * std::log10(input_norm2(L));
  for (Index l = 1; l <= L; ++l) {
    LayerTheory& t = out[static_cast<std::size_t>(l - 1)];
    t.grad_weight_rel_log10 = t.grad_preact_rel_log10 + dh_over_du(l) + 0.5 * std::log10(input_norm2(l)) - last;
  }
  return out;
}

// The map V is increasing in q, so iterating it moves monotonically to the nearest fixed point
// in the direction it first moves. That fixed point is bracketed (doubling steps outward) and
// found by Newton's method on g(q) = V(q) - q, whose slope V'(q) = sigma_w2 d E[phi^2] / dq
// comes with the same quadrature; bisection takes over when a Newton step leaves the bracket.
double solve_q_star(const Phi& phi, double sw2, double sb2, double bias, double q) {
  auto g = [&](double x, double* slope) {
    const Moments1 m = expect1(phi, bias, x);
    if (slope) *slope = sw2 * m.dphi2_dv - 1;
    return sw2 * m.phi2 + sb2 - x;
  };
  const double g0 = g(q, nullptr);
  if (!std::isfinite(g0)) return kInf;
  if (std::abs(g0) <= 1e-15 * q || q + g0 == 0) return q + g0;
  double lo = q, hi = q;  // g(lo) > 0 > g(hi)
  if (g0 > 0) {
    double d = g0;
    for (hi = q + d; g(hi, nullptr) > 0; hi = q + d) {
      lo = hi;
      d *= 2;
      if (d > 1e12 * std::max(q, 1.0)) return kInf;  // no fixed point in any meaningful range
    }
  } else {
    // Shrinking: try ever smaller q for one where the map moves up again.
    for (lo = 0.5 * q;; lo *= 0.5) {
      if (g(lo, nullptr) >= 0) break;
      hi = lo;
      if (lo < 1e-30 * q) return 0;  // it decays to 0
    }
  }
  double x = 0.5 * (lo + hi);
  for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
    double slope = 0;
    const double gx = g(x, &slope);
    if (gx == 0) return x;
    (gx > 0 ? lo : hi) = x;
    double next = slope < 0 ? x - gx / slope : kNaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-15 * x) return next;
    x = next;
  }
  return x;
}

namespace {

// The correlation map at variance q: C(c) = (sigma_w2 E[phi(h1) phi(h2)] + sigma_b2) / q', with
// q' = sigma_w2 E[phi^2] + sigma_b2 the next layer's variance (= q at a finite fixed point; when
// q grows without bound, the map's limit). Its slope: sigma_w2 q E[phi'(h1) phi'(h2)] / q'.
struct CorrelationMap {
  const Phi& phi;
  double sw2, sb2, bias, q, q_next;
  double value(double c, double* slope) const {
    const Moments2 m = expect2(phi, bias, q, c);
    if (slope) *slope = sw2 * q * m.dphidphi / q_next;
    return (sw2 * m.phiphi + sb2) / q_next;
  }
};

// c* < 1 in the chaotic phase, by safeguarded Newton from c = 0: the map's Hermite expansion
// has non-negative coefficients, so C(c) - c is convex on [0, 1] and Newton climbs to the root.
double solve_c_star(const CorrelationMap& map) {
  double lo = 0, hi = 1, c = 0;
  for (int it = 0; it < 60; ++it) {
    double slope = 0;
    const double g = map.value(c, &slope) - c, dg = slope - 1;
    if (g == 0) break;
    (g > 0 ? lo : hi) = c;
    double next = dg < 0 ? c - g / dg : kNaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - c) < 1e-11) {  // quadratic convergence: the error is now far smaller
      c = next;
      break;
    }
    c = next;
  }
  return c;
}

}  // namespace

FixedPoint fixed_point(const Phi& phi, double sw2, double sb2, double bias, double q_start,
                       double critical_tol, double keep) {
  FixedPoint f;
  // Dropout: the length map and chi_1 see sigma_w2 / rho, the correlation map's numerator sigma_w2.
  f.q_star = solve_q_star(phi, sw2 / keep, sb2, bias, q_start);
  const double q = std::isfinite(f.q_star) ? f.q_star : 1e12;  // "as q grows"
  const Moments1 m1 = expect1(phi, bias, q);
  f.chi_1 = sw2 * m1.dphi2 / keep;
  f.chi_q = std::isfinite(f.q_star) ? sw2 * m1.dphi2_dv / keep : kNaN;
  f.xi_q = std::isfinite(f.chi_q) ? depth_scale(f.chi_q) : kNaN;
  f.xi_grad = depth_scale(f.chi_1);
  f.phase = phase_of(f.chi_1, critical_tol);
  if (!std::isfinite(f.q_star) && keep == 1) {
    // The signal grows without bound, the biases fade next to it, and what is left of the map
    // is that of a positively homogeneous phi (relu-like): c* = 1 with slope 1, approached only
    // polynomially. No finite depth scale. (With dropout the map at q = 1e12 is that limit
    // times rho < 1, whose c* < 1 the last branch solves.)
    f.c_star = 1;
    f.chi_c = 1;
  } else if (keep == 1 && (q == 0 || f.chi_1 <= 1 + 1e-12)) {  // (1 + rounding: identity's chi_1 is 1 exactly)
    f.c_star = 1;
    f.chi_c = f.chi_1;
  } else {  // chaotic, or dropout: C(1) = (q* - sigma_w2 E[phi^2] (1/rho - 1)) / q* < 1, so c* < 1
    // A signal fading to q* = 0 under dropout: the map's limit there, taken at a q small enough
    // (for tanh C(c) -> rho c: c* = 0, chi_c = rho).
    const double q_map = q > 0 ? q : 1e-12;
    const double next = q > 0 ? sw2 / keep * m1.phi2 + sb2 : sw2 / keep * expect1(phi, bias, q_map).phi2 + sb2;
    const CorrelationMap map{phi, sw2, sb2, bias, q_map, next};
    f.c_star = solve_c_star(map);
    map.value(f.c_star, &f.chi_c);
  }
  f.xi_c = depth_scale(f.chi_c);
  return f;
}

double critical_sigma_w2(const Phi& phi, double sb2, double bias, double input_m2) {
  auto excess = [&](double sw2) {
    const double q = solve_q_star(phi, sw2, sb2, bias, sw2 * input_m2 + sb2);
    return sw2 * expect1(phi, bias, std::isfinite(q) ? q : 1e12).dphi2 - 1;
  };
  // Scan a log grid for the first crossing from below 1 to above; then regula falsi with the
  // Illinois modification (Dowell & Jarratt 1971), which keeps the bracket and converges fast.
  constexpr int kSteps = 40;
  double a = 0.01, fa = excess(a);
  if (fa >= 0) return kNaN;
  for (int i = 1; i <= kSteps; ++i) {
    const double b0 = 0.01 * std::pow(1e5, static_cast<double>(i) / kSteps);
    double b = b0, fb = excess(b);
    if (fb < 0) {
      a = b;
      fa = fb;
      continue;
    }
    int side = 0;
    for (int it = 0; it < 100 && b - a > 1e-13 * b; ++it) {
      const double x = (a * fb - b * fa) / (fb - fa);
      const double fx = excess(x);
      if (fx == 0) return x;
      if (fx < 0) {
        a = x;
        fa = fx;
        if (side == -1) fb *= 0.5;
        side = -1;
      } else {
        b = x;
        fb = fx;
        if (side == 1) fa *= 0.5;
        side = 1;
      }
      if (std::abs(fx) < 1e-14) return x;
    }
    return 0.5 * (a + b);
  }
  return kNaN;
}

FixedPoint network_fixed_point(const MeanFieldModel& m, const std::vector<LayerTheory>& layers, double critical_tol,
                               double* sigma_w2) {
  double sw2 = m.sigma_w2.back();
  double keep = m.ops.empty() ? 1.0 : 1 - m.ops.back().dropout;  // the deep layers' dropout
  bool normed = false;
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    if (m.ops[i].kind == OpKind::branch_in) sw2 = m.sigma_w2[i], keep = 1 - m.ops[i].dropout;
    normed = normed || m.ops[i].kind == OpKind::dense_norm;
  }
  if (sigma_w2) *sigma_w2 = sw2;
  if (!normed) return fixed_point(m.phi, sw2, m.sigma_b2, m.bias, layers.front().q, critical_tol, keep);
  const std::size_t deep = layers.size() >= 2 ? layers.size() - 2 : 0;
  FixedPoint f;
  f.q_star = layers[deep].q;
  f.chi_1 = std::isfinite(layers[deep].chi) ? layers[deep].chi : kNaN;
  f.chi_q = 0;
  f.xi_q = 0;
  f.xi_grad = depth_scale(f.chi_1);
  f.c_star = f.chi_c = f.xi_c = kNaN;
  f.phase = phase_of(f.chi_1, critical_tol);
  return f;
}

}  // namespace gf
