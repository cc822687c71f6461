#pragma once
// Mean-field theory of signal propagation at initialisation (Poole et al. 2016; Schoenholz et
// al. 2017; Pennington et al. 2017): in a wide network with W_l ~ N(0, sigma_w2_l / fan_in)
// (any zero-mean weights of that variance, at large width), b ~ N(bias, sigma_b2), every
// pre-activation of layer l is Gaussian, h ~ N(bias, q_l), with
//   length map       q_{l+1} = sigma_w2 E[phi(h_l)^2] + sigma_b2,   q_1 = sigma_w2 E[x^2] + sigma_b2
//   correlation map  c_{l+1} = (sigma_w2 E[phi(h_l) phi(h'_l)] + sigma_b2) / q_{l+1}   (two inputs)
//   backward         ||dL/dh_l||^2 = chi_l ||dL/dh_{l+1}||^2,  chi_l = sigma_w2 E[phi'(h_l)^2]
// so the gradient's profile over depth is a product of per-layer factors. These hold in the
// limit of infinite width, with the backward pass independent of the forward one (a fresh
// Gaussian direction at the head: --loss random). Inverted dropout after layer l's activation,
// a = phi(h) m / rho with keep probability rho = 1 - p (Schoenholz et al. 2017, "Deep Information
// Propagation", sec. 6): q_{l+1} = sigma_w2 E[phi(h_l)^2] / rho + sigma_b2 and chi_l =
// sigma_w2 E[phi'(h_l)^2] / rho, while the correlation map's numerator keeps sigma_w2 E[phi phi']
// (two inputs' masks are independent), so c = 1 is no fixed point: c* < 1 at any sigma_w2.
#include <string>
#include <vector>

#include "base/tensor.h"
#include "core/layer_op.h"
#include "core/network.h"
#include "theory/dead_units.h"
#include "theory/gaussian_expect.h"

namespace gf {

// A network as mean-field theory sees it.
struct MeanFieldModel {
  Phi phi;
  std::vector<double> sigma_w2;   // hidden layer l = 1..L at [l-1]: fan_in x Var(W_l)
  double sigma_b2 = 0;            // random biases
  double bias = 0;                // a constant bias: the mean of every pre-activation
  double input_m2 = 1;            // E[x_i^2] of an input feature
  double input_cross = 0;         // E[x_i x'_i] for two different inputs
  std::vector<Index> widths;      // n_0 .. n_L (weight gradients scale with n_{l-1})
  Index batch = 0;                // inputs per batch, for dead units
  double input_mean = 0;          // E[x_i]: with a constant bias, the residual stream's mean
  // The hidden layers' ops (NetworkSpec::ops without the head): each layer's own activation and
  // its place in residual blocks. Empty: a plain stack of phi.
  std::vector<LayerOp> ops;
  Index depth() const { return static_cast<Index>(sigma_w2.size()); }
};

// The second moments of the inputs gradflow draws (network.h's InputKind): N(0,1) has E x^2 = 1,
// U[-1,1) 1/3, U[0,1) 1/3 with mean 1/2, so two positive inputs overlap by 1/4 per feature.
struct InputMoments {
  double m2 = 1, cross = 0, mean = 0;
};
InputMoments input_moments(InputKind k);

// With a norm (LayerNorm, RMSNorm: h -> u = N(h) -> phi), q and c are u's: LayerNorm fixes u's
// variance at 1 (less eps) whatever the weights, so q_l = 1 is the fixed point from layer 1 on,
// and the gradient's factor per layer becomes sigma_w2 E[phi'(u)^2] / sigma_{l+1}^2, with
// sigma^2 = sigma_w2 E[phi(u)^2] + sigma_b2: E[phi'^2] / E[phi^2] without biases, 1 for relu
// (critical at any sigma_w2), 1.18 for tanh (the gradient grows towards the input). BatchNorm
// (its large-batch limit, Yang et al. 2019) normalises each unit over the batch instead, which
// removes the unit's mean with the bias: sigma^2 = sigma_w2 Var[phi(u)], and the factor becomes
// E[phi'(u)^2] / Var[phi(u)] whatever the init and bias, above 1 for every phi (their gradient
// explosion; pi / (pi - 1) for relu).
struct LayerTheory {
  Index layer = 0;
  double q = 0;       // variance of h_l (u_l with a norm)
  double c = 0;       // correlation of h_l between two inputs
  double act_m2 = 0;  // E[phi(h_l)^2]
  double chi = 0;     // sigma_w2_{l+1} E[phi'(h_l)^2]: ||dh_l||^2 / ||dh_{l+1}||^2 (NaN for l = L)
  double grad_preact_rel_log10 = 0;  // log10 ||dL/dh_l|| - log10 ||dL/dh_L||
  double grad_weight_rel_log10 = 0;  // log10 ||dL/dW_l|| - log10 ||dL/dW_L||
  double dead_units_frac = 0;        // units flat on every one of `batch` inputs (0 without a dead zone)
  double norm_grad_ratio_log10 = kNaN;  // layers with a norm: log10 ||dL/dh_l|| / ||dL/du_l||
};

// A residual block's stream (Yang & Schoenholz 2017, "Mean field residual networks: on the edge
// of chaos", their full residual network): with the branch's last layer zero-mean and drawn
// afresh, s' = s + alpha F(s) adds variances, E[s'^2] = E[s^2] + alpha^2 E[F^2] (+ the cross term
// of a constant bias with the stream's mean), and backwards
// ||dL/ds||^2 = ||dL/ds'||^2 (1 + alpha^2 prod_j chi_j): the branch's gradient factor adds to
// the identity's 1 instead of multiplying, so the profile grows at most polynomially or
// exponentially in alpha^2, never vanishes.
// With one LayerNorm or RMSNorm per block (Xiong et al. 2020; LayerOp::norm on branch_in or
// skip_add): Pre-LN, s' = s + alpha F(N(s)), feeds every branch unit second moment, so E s^2 grows
// linearly and the factor is 1 + alpha^2 prod chi / E s^2 (the norm's Jacobian divides by its
// sigma); Post-LN, s' = N(s + alpha F(s)), keeps E s^2 = 1 and the factor is
// (1 + alpha^2 prod chi) / E (s + alpha F)^2, the same every block. Both keep the norm's 1/n share
// (norm_grad_ratio2 with phi' = 1). BatchNorm in residual blocks is not modelled.
struct BlockTheory {
  Index block = 0;
  double stream_rms = 0;             // sqrt E[s^2] at the block's input
  double grad_stream_rel_log10 = 0;  // log10 ||dL/ds|| at the block's input, relative to the last block's
  double branch_ratio = 0;           // channel variance of alpha F over that of s (BlockStats::branch_ratio)
};

// Layer by layer, from the input. ||dL/dW_l||^2 = sum_b ||dh_l,b||^2 ||a_{l-1},b||^2 when the
// per-sample gradients are independent of each other, so the weight profile is the
// pre-activation profile plus 1/2 log10(n_{l-1} E[a_{l-1}^2]). With m.ops, each layer's own
// activation, and through residual blocks (`blocks`, if given, gets one entry per block).
std::vector<LayerTheory> predict_layers(const MeanFieldModel& m, std::vector<BlockTheory>* blocks = nullptr);

enum class Phase { ordered, critical, chaotic };
std::string_view phase_name(Phase p);
// ordered chi_1 < 1 - tol, chaotic > 1 + tol, else critical.
Phase phase_of(double chi_1, double tol);

// Where a deep stack of identical layers settles, and how fast.
struct FixedPoint {
  double q_star = 0;     // +inf when the length map diverges (relu with sigma_w2 > 2)
  double chi_1 = 0;      // sigma_w2 E[phi'^2] at q* (its limit as q grows if q* is infinite)
  double chi_q = 0;      // slope of the length map at q*
  double c_star = 1;     // fixed point of the correlation map (1, with chi_c = 1, when q* is infinite)
  double chi_c = 0;      // its slope there: sigma_w2 E[phi'(h1) phi'(h2)]
  double xi_q = 0;       // -1/ln chi_q: layers over which q_l settles (per factor e)
  double xi_c = 0;       // -1/ln chi_c: layers over which correlations settle; infinite at criticality
  double xi_grad = 0;    // -1/ln chi_1: layers per factor e of the gradient; < 0: it grows
  Phase phase = Phase::ordered;  // ordered chi_1 < 1 - tol, chaotic > 1 + tol, else critical
};

// q_start: the first layer's variance (the iteration starts there).
// keep: dropout's rho = 1 - p after every layer (1: none).
FixedPoint fixed_point(const Phi& phi, double sigma_w2, double sigma_b2, double bias, double q_start,
                       double critical_tol, double keep = 1);
// The fixed point q* the length map reaches from q_start (+inf if it diverges, 0 if it decays).
double solve_q_star(const Phi& phi, double sigma_w2, double sigma_b2, double bias, double q_start);
// (+inf means no fixed point below 1e12 times the start.)
// sigma_w2 at which chi_1 = 1 for these biases and inputs: the edge of chaos. NaN if chi_1 stays
// on one side of 1 for sigma_w2 in [0.01, 1000].
double critical_sigma_w2(const Phi& phi, double sigma_b2, double bias, double input_m2);

// The fixed point of m's network as a whole, from its predicted layers (`theory` and `analyze
// --theory` both ask here): a plain stack's is fixed_point's at the last layer's sigma_w2; a
// residual net's that of its branches' first layers (the last one is linear), written to
// *sigma_w2; with a norm before each activation (plain stacks), u's fixed variance is q* whatever
// sigma_w2, chi_1 the deep layers' factor, and the correlation map is not modelled (c*, chi_c and
// xi_c NaN).
FixedPoint network_fixed_point(const MeanFieldModel& m, const std::vector<LayerTheory>& layers, double critical_tol,
                               double* sigma_w2 = nullptr);

// -1/ln(chi): +inf at chi = 1, 0 at chi = 0.
double depth_scale(double chi);

}  // namespace gf
