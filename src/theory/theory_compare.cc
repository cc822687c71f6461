#include "theory/theory_compare.h"

#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "core/enum_names.h"
#include "core/loss.h"
#include "core/params.h"
#include "theory/theory_notes.h"

namespace gf {

MeanFieldModel mean_field_model(const AnalysisConfig& c, const Activation& act) {
  const NetworkSpec spec = network_spec(c, act);
  MeanFieldModel m;
  m.phi = {&act, c.leaky_slope};
  for (Index l = 1; l <= spec.depth(); ++l) {
    const Index fan_in = spec.width(l - 1), fan_out = spec.width(l);
    const double f = init_factor(spec, l);
    m.sigma_w2.push_back(f * f * static_cast<double>(fan_in) * layer_init(spec, l).variance(fan_in, fan_out));
  }
  m.ops.assign(spec.ops.begin(), spec.ops.end() - 1);
  m.sigma_b2 = spec.bias_init.sigma_b2.value_or(0.0);
  m.bias = spec.bias_init.sigma_b2 ? 0.0 : spec.bias_init.constant;
  const InputMoments in = input_moments(c.input);
  m.input_m2 = in.m2;
  m.input_cross = in.cross;
  m.input_mean = in.mean;
  m.widths = spec.widths();
  m.batch = c.batch;
  return m;
}

namespace {

// 0 for a value below what the note prints of it (the quadrature's rounding: c* 3e-33, or
// "-0.00"), as report_theory prints it.
double not_rounding(double v, double below) { return std::abs(v) < below ? 0.0 : v; }

std::vector<std::string> notes_for(const AnalysisConfig& c, const RunResult& r, const MeanFieldModel& m,
                                   const TheoryComparison& t) {
  std::vector<std::string> notes;
  const Index L = m.depth();
  Index narrow = m.widths[1];
  for (Index l = 1; l <= L; ++l) narrow = std::min(narrow, m.widths[static_cast<std::size_t>(l)]);
  if (narrow < 128 || static_cast<double>(L) > 0.25 * static_cast<double>(narrow))
    notes.push_back(fmt::format(
        "finite width: the theory is the limit of infinite width; at width {} over {} layers each "
        "layer's gradient factor fluctuates by about {:.0f}% and the errors add up along the depth",
        narrow, L, 100 * std::sqrt(2.0 / static_cast<double>(narrow))));
  if (c.init == "orthogonal")
    notes.push_back(
        "orthogonal init: the theory assumes independent Gaussian weights; it still gives the mean "
        "variance and mean gradient factor, but orthogonal matrices keep gradient norms much more "
        "evenly (dynamical isometry, Pennington et al. 2017), which it does not model");
  if (c.input != InputKind::normal)
    notes.push_back(fmt::format(
        "non-Gaussian input ({}): only the input's second moments enter the theory (E x^2 = 1/3{}); "
        "the first layer's pre-activations are Gaussian over the weights, but with few input "
        "features the spread of ||x||^2 between samples is not modelled",
        input_name(c.input), c.input == InputKind::positive ? ", and a shared mean that correlates samples (c_1 high)" : ""));
  if (c.loss != LossKind::random)
    notes.push_back(fmt::format(
        "loss {}: the theory's backward pass assumes each sample's output gradient is an independent "
        "random direction (--loss random). Per-sample gradients (d loss/d h) still follow it, but "
        "with {} the samples' output gradients share a common component when the last layer's "
        "activations are correlated (predicted c_L = {:.2f}), which adds coherently in d loss/d W: "
        "compare weight-gradient profiles under --loss random",
        loss_name(c.loss), loss_name(c.loss), m.widths.empty() ? kNaN : not_rounding(t.predicted.back().c, 0.005)));
  const std::string_view no_jacobian_prediction =
      r.jacobian ? "; the Jacobian's free-probability prediction covers plain stacks without norms only" : "";
  if (!t.predicted_blocks.empty())
    notes.push_back(residual_theory_note("residual blocks", no_jacobian_prediction));
  if (c.norm != NormKind::none && c.residual != 0)
    notes.push_back(residual_norm_theory_note(c.norm, c.norm_position, no_jacobian_prediction));
  else if (c.norm != NormKind::none)
    notes.push_back(norm_theory_note(c.norm, m.phi, t.fixed.q_star, t.fixed.chi_1, "", no_jacobian_prediction));
  if (c.dropout != 0)
    notes.push_back(fmt::format(
        "dropout {}: q_l and the gradient factor chi carry 1/(1-p) (Schoenholz et al. 2017), the correlation map "
        "does not, so c* < 1 (predicted {:.3g}) and there is no edge of chaos{}",
        c.dropout, not_rounding(t.fixed.c_star, 1e-12), r.jacobian ? "; the Jacobian's free-probability prediction has no mask" : ""));
  if (!std::isfinite(t.fixed.q_star))
    notes.push_back("the length map diverges (q_l grows without bound): the forward signal explodes");
  if (r.pass.overflow_layer != 0)
    notes.push_back(fmt::format("the measurement overflowed at layer {}: layers from there on are not compared",
                                r.pass.overflow_layer));
  if (r.pass.zero_grad_layer != 0)
    notes.push_back(fmt::format("the measured gradient is exactly zero below layer {}: those layers are not "
                                "compared",
                                r.pass.zero_grad_layer));
  return notes;
}

// Each block's stream beside Yang & Schoenholz's prediction (mean_field.h's BlockTheory).
void compare_blocks(const RunResult& r, TheoryComparison& t) {
  const auto& blocks = r.pass.blocks;
  if (blocks.empty() || blocks.size() != t.predicted_blocks.size()) return;
  const double last = blocks.back().grad_stream_log10;
  double rms_sum = 0, g_sum = 0;
  Index n_rms = 0, n_g = 0;
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const BlockTheory& p = t.predicted_blocks[k];
    t.grad_stream_rel_log10.push_back(blocks[k].grad_stream_log10 - last);
    if (std::isfinite(blocks[k].stream_rms) && p.stream_rms > 0) {
      rms_sum += std::abs(blocks[k].stream_rms / p.stream_rms - 1);
      ++n_rms;
    }
    if (std::isfinite(t.grad_stream_rel_log10.back()) && std::isfinite(p.grad_stream_rel_log10)) {
      g_sum += std::abs(t.grad_stream_rel_log10.back() - p.grad_stream_rel_log10);
      ++n_g;
    }
  }
  t.blocks_compared = std::max(n_rms, n_g);
  t.stream_rms_rel_mean_abs = n_rms ? rms_sum / static_cast<double>(n_rms) : kNaN;
  t.grad_stream_mean_abs = n_g ? g_sum / static_cast<double>(n_g) : kNaN;
}

}  // namespace

TheoryComparison compare_with_theory(const AnalysisConfig& c, const RunResult& r) {
  const Activation& act = *find_activation(r.activation);
  const MeanFieldModel m = mean_field_model(c, act);
  TheoryComparison t;
  t.method = std::string(expect_method_name(m.phi, m.bias));
  t.predicted = predict_layers(m, &t.predicted_blocks);
  t.fixed = network_fixed_point(m, t.predicted, 0.01, &t.sigma_w2);

  const auto& layers = r.pass.layers;
  const std::size_t L = layers.size();
  const double last = layers.back().grad_preact_log10;
  double q_sum = 0, gp_sum = 0, gw_sum = 0, dead_sum = 0;
  Index n_q = 0, n_g = 0;
  const bool dead_zone = act.has_dead_zone(c.leaky_slope);
  for (std::size_t i = 0; i < L; ++i) {
    const LayerStats& s = layers[i];
    const LayerTheory& p = t.predicted[i];
    const double var = s.preact_std * s.preact_std;
    t.preact_var.push_back(var);
    t.grad_preact_rel_log10.push_back(s.grad_preact_log10 - last);
    if (std::isfinite(var) && p.q > 0) {
      q_sum += std::abs(var / p.q - 1);
      dead_sum += std::abs(s.dead_units_frac - p.dead_units_frac);
      ++n_q;
    }
    if (std::isfinite(t.grad_preact_rel_log10.back()) && std::isfinite(s.grad_weight_rel_log10) &&
        std::isfinite(p.grad_preact_rel_log10) && std::isfinite(p.grad_weight_rel_log10)) {
      gp_sum += std::abs(t.grad_preact_rel_log10.back() - p.grad_preact_rel_log10);
      gw_sum += std::abs(s.grad_weight_rel_log10 - p.grad_weight_rel_log10);
      ++n_g;
    }
  }
  t.layers_compared = std::max(n_q, n_g);
  t.q_rel_mean_abs = n_q ? q_sum / static_cast<double>(n_q) : kNaN;
  t.dead_units_mean_abs = n_q && dead_zone ? dead_sum / static_cast<double>(n_q) : kNaN;
  t.grad_preact_mean_abs = n_g ? gp_sum / static_cast<double>(n_g) : kNaN;
  t.grad_weight_mean_abs = n_g ? gw_sum / static_cast<double>(n_g) : kNaN;
  compare_blocks(r, t);
  // Free probability's D_l = diag(phi') has no mask: no spectrum prediction with dropout.
  if (r.jacobian && t.predicted_blocks.empty() && c.norm == NormKind::none && c.dropout == 0)
    t.jacobian = predict_jacobian(m, t.predicted, c.init == "orthogonal");
  t.notes = notes_for(c, r, m, t);
  return t;
}

}  // namespace gf
