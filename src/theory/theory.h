#pragma once
// `theory` as a library call: mean-field predictions for one configuration per activation, and
// the phase diagram over a grid of (sigma_w2, sigma_b2).
#include <optional>
#include <string>
#include <vector>

#include "theory/jacobian_theory.h"
#include "theory/mean_field.h"

namespace gf {

struct TheoryConfig {
  std::vector<std::string> activations{"sigmoid", "tanh", "relu"};
  std::string init = "auto";
  std::vector<double> sigma_w2;   // empty: implied by --init; several: a phase-diagram axis
  std::vector<double> sigma_b2;   // empty: 0 (with --phase-diagram 0:0.3:0.01)
  std::string sigma_w2_text, sigma_b2_text;  // as given, for the report's config
  std::optional<double> weight_std;
  std::optional<double> gain;  // torch.nn.init's gain for the scheme, as in analyze
  double bias_init = 0;
  Index depth = 20;
  Index width = 256;
  Index batch = 256;
  InputKind input = InputKind::normal;
  double leaky_slope = 0.01;
  double critical_tol = 0.01;
  bool phase_diagram = false;
  bool jacobian = false;  // also the Jacobian spectrum's prediction (jacobian_theory.h)
  int threads = 0;
  // The network beyond the plain stack, as `analyze` builds it (layer_op.h): residual blocks of
  // K layers with alpha as typed ("1", "0", "invsqrt-blocks"); a norm between each dense layer's
  // product and its activation (plain stacks; BatchNorm in its large-batch limit, batchnorm_theory.h),
  // or, with residual blocks, one LayerNorm or RMSNorm per block at norm_position (Pre-LN, Post-LN).
  Index residual = 0;
  std::string residual_scale = "1";
  NormKind norm = NormKind::none;
  NormPosition norm_position = NormPosition::pre;
  double norm_eps = 1e-5;
};

// Defaults of the phase diagram's axes (Poole et al. 2016's figure for tanh).
inline constexpr const char* kDefaultSigmaW2Range = "0.5:4:0.05";
inline constexpr const char* kDefaultSigmaB2Range = "0:0.3:0.01";

// Throws UsageError naming the flags.
void validate(const TheoryConfig& c);

struct TheoryResult {
  std::string activation;
  std::string init;          // "he_normal", "sigma_w2=1.5", "weight_std=0.05"
  std::string method;        // "closed form" or "quadrature"
  double sigma_w2 = 0, sigma_b2 = 0, bias = 0;
  FixedPoint fixed;
  double critical_sigma_w2 = 0;  // NaN: none in [0.01, 1000]
  double trainable_depth = 0;    // 6 xi_c (Schoenholz et al. 2017's rule of thumb)
  double born_dead = 0;          // NaN unless relu-like with zero biases
  std::vector<LayerTheory> layers;
  std::optional<JacobianTheory> jacobian;  // with TheoryConfig::jacobian
  std::vector<BlockTheory> blocks;         // residual nets: one per block
  std::vector<std::string> notes;  // what the theory does not cover for this network
};

std::vector<TheoryResult> run_theory(const TheoryConfig& c);

struct PhaseCell {
  double sigma_w2 = 0, sigma_b2 = 0, q_star = 0, chi_1 = 0, xi_c = 0;
  Phase phase = Phase::ordered;
};

struct PhaseDiagram {
  std::string activation;
  std::vector<double> sigma_w2, sigma_b2;
  std::vector<PhaseCell> cells;  // row-major: sigma_b2 outer, sigma_w2 inner
  std::vector<double> critical;  // critical sigma_w2 for each sigma_b2 (NaN: none)
  // The critical line for drawing: (sigma_b2, sigma_w2) at the rows and, where it bends most,
  // near the smallest sigma_b2, in between (sigma_b2 spaced quadratically from there).
  std::vector<std::pair<double, double>> line;
  const PhaseCell& at(std::size_t i_b, std::size_t i_w) const { return cells[i_b * sigma_w2.size() + i_w]; }
};

std::vector<PhaseDiagram> run_phase_diagram(const TheoryConfig& c);

// "A:B:STEP" (inclusive, STEP > 0) or a single number; throws std::invalid_argument with a reason.
std::vector<double> parse_range(const std::string& text);

}  // namespace gf
