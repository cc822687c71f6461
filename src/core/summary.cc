#include "core/summary.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace gf {
namespace {

std::string percent(double frac) { return fmt::format("{:.1f}%", 100.0 * frac); }

}  // namespace

std::string factor_text(double v) {
  return v >= 0.01 && v < 1000 ? fmt::format("{:.2f}", v) : fmt::format("{:.2g}", v);
}

namespace {

// "10^-12.4 of the last layer's (x0.24 per layer)"; only where both are defined (or L = 1).
std::string ratio_phrase(const Summary& s) {
  if (std::isnan(s.grad_factor_per_layer)) return "the last layer's (a single layer)";
  return fmt::format("10^{:+.1f} of the last layer's (x{} per layer)", s.grad_first_last_log10,
                     factor_text(s.grad_factor_per_layer));
}

// Slopes below the dtype's normal range (layer.cc counts them; op_dense.cc rescales them).
std::string range_phrase(std::string_view dtype) {
  return fmt::format("below {:.2g}, {}'s smallest normal number",
                     dtype == "f32" ? double(std::numeric_limits<float>::min())
                                    : std::numeric_limits<double>::min(),
                     dtype);
}

std::string rerun_phrase(std::string_view dtype) {
  return dtype == "f32" ? "rerun with --dtype f64" : "no dtype of gradflow reaches further";
}

// The run's gradient ratio is undefined although no layer overflowed, stopped the gradient or
// lost it to underflow: some layer j >= 2 has a weight gradient of exactly 0, d W_j =
// a_(j-1)^T d_h_j, because the activations a_(j-1) are exactly 0 or so small that every
// product rounds to 0. In a network whose inputs are not 0 that is the forward signal falling
// below the dtype's range (a dead layer would have stopped the gradient itself).
std::string zero_input_sentence(const std::vector<LayerStats>& layers, std::string_view dtype) {
  const auto L = static_cast<Index>(layers.size());
  Index first = L, count = 0;
  for (const LayerStats& l : layers)
    if (!std::isfinite(l.grad_weight_log10)) {
      first = std::min(first, l.layer);
      ++count;
    }
  if (first < 2)  // layer 1's own d W is 0 (a norm over one unit: LayerNorm at width 1 outputs 0)
    return fmt::format("layer 1's weight gradient is exactly 0, so it cannot be compared with layer {}'s: vanishing", L);
  const LayerStats& input = layers[static_cast<std::size_t>(first - 2)];
  const double rms = std::sqrt(input.act_mean * input.act_mean + input.act_std * input.act_std);
  return fmt::format(
      "the forward signal fell below {}'s range: layer {}'s activations are {}, so the weight "
      "gradients of {} layers {} to {} are exactly 0 and layer 1's gradient cannot be compared "
      "with layer {}'s; {} to follow the signal further: vanishing",
      dtype, input.layer, rms == 0 ? std::string("exactly 0") : fmt::format("of RMS {:.1e}", rms),
      count == L - first + 1 ? std::string("the") : fmt::format("{} of the", count), first, L, L,
      rerun_phrase(dtype));
}

Index worst_layer(const std::vector<LayerStats>& layers, double LayerStats::*field) {
  const auto it = std::max_element(layers.begin(), layers.end(), [&](const auto& a, const auto& b) {
    return a.*field < b.*field;
  });
  return it->layer;
}

constexpr SummaryMetric kSummaryMetrics[] = {
    {"loss", &Summary::loss, "the loss at initialisation"},
    {"grad_first_last_log10", &Summary::grad_first_last_log10,
     "grad_weight_log10 of layer 1 minus that of layer L", 0},
    {"grad_factor_per_layer", &Summary::grad_factor_per_layer,
     "10^(grad_first_last_log10 / (L-1)): below 1 vanishing, above 1 exploding", 1},
    {"signal_first_last_log10", &Summary::signal_first_last_log10,
     "log10 of the pre-activations' RMS in layer L minus that in layer 1: below 0 the forward signal shrinks", 0},
    {"signal_factor_per_layer", &Summary::signal_factor_per_layer,
     "10^(signal_first_last_log10 / (L-1)): the forward signal's factor per layer", 1},
    {"grad_weight_log10_max", &Summary::grad_weight_log10_max,
     "the absolute gradient scale: the largest grad_weight_log10 of any layer"},
    {"saturated_frac_mean", &Summary::saturated_frac_mean, "mean over layers of saturated_frac", kNaN,
     "saturated_frac", OverLayers::mean},
    {"saturated_frac_max", &Summary::saturated_frac_max, "largest saturated_frac of any layer", kNaN,
     "saturated_frac", OverLayers::max},
    {"inactive_frac_mean", &Summary::inactive_frac_mean, "mean over layers of inactive_frac", kNaN,
     "inactive_frac", OverLayers::mean},
    {"dead_units_frac", &Summary::dead_units_frac, "share of all hidden units that are dead", kNaN,
     "dead_units_frac", OverLayers::pooled},
    {"dead_units_frac_max", &Summary::dead_units_frac_max, "largest dead_units_frac of any layer", kNaN,
     "dead_units_frac", OverLayers::max},
    {"dw_sign_coherence_mean", &Summary::dw_sign_coherence_mean,
     "mean dw_sign_coherence of layers 2..L", kNaN, "dw_sign_coherence", OverLayers::mean_from_2},
    {"act_offset_mean", &Summary::act_offset_mean,
     "mean over layers of |act_mean| / sqrt(act_mean^2 + act_std^2): 0 zero-centred, 1 one-signed"},
};

// Slopes below the dtype's range whose loss cost no exactness (the inexact verdict covers the
// rest): said, so that a reader of slope_underflow_frac knows the gradients are still exact.
void underflow_note(Summary& s, const std::vector<LayerStats>& layers, std::string_view activation,
                    std::string_view dtype, Index inexact_layer) {
  const LayerStats* worst = nullptr;
  Index count = 0, lo = 0, hi = 0;
  bool rescaled = false;
  for (const LayerStats& l : layers) {
    if (!(l.slope_underflow_frac > 0) || (inexact_layer != 0 && l.layer <= inexact_layer)) continue;
    ++count;
    lo = lo == 0 ? l.layer : lo;
    hi = l.layer;
    rescaled |= l.slope_scale_log10 != 0;
    if (!worst || l.slope_underflow_frac > worst->slope_underflow_frac) worst = &l;
  }
  if (!worst) return;
  double least = 1;
  for (const LayerStats& l : layers)
    if (l.slope_underflow_frac > 0 && l.layer >= lo && l.layer <= hi) least = std::min(least, l.slope_underflow_frac);
  const std::string span = count == hi - lo + 1 ? fmt::format("layers {} to {}", lo, hi)
                                                : fmt::format("{} of layers {} to {}", count, lo, hi);
  const std::string where =
      count == 1 ? fmt::format("{} of layer {}'s unit-samples", percent(worst->slope_underflow_frac), lo)
      : least == worst->slope_underflow_frac
          ? fmt::format("{} of the unit-samples of {}", percent(least), span)
          : fmt::format("unit-samples of {} (up to {}, in layer {})", span,
                        percent(worst->slope_underflow_frac), worst->layer);
  s.notes.push_back(fmt::format(
      "{}: {} cannot represent the slope of {} ({}); {}, so the gradients shown are exact",
      activation, dtype, where, range_phrase(dtype),
      rescaled ? "gradflow computed those slopes again with their scale taken out as a log"
               : "next to the other slopes of their layers they change no gradient by a millionth"));
}

// Rounding is a relative change of about eps at every layer. In a chaotic network (Poole et al.
// 2016: chi_1 > 1) a relative change of layer l's pre-activations grows on its way up: by
// (|d loss/d h_l| |h_l|) / (|d loss/d h_L| |h_L|), read off the measured gradients and
// pre-activations (1 for a linear network, however large its gradients grow). Past a relative
// change of 1e-3 at the top, measured f32 runs differ from f64 by 0.01 to 0.08 decades per layer
// (tanh and hard_tanh with sigma_w2 = 16, depth 30); below it, by under 0.005.
void rounding_note(Summary& s, const std::vector<LayerStats>& layers, std::string_view activation,
                   std::string_view dtype) {
  const LayerStats& top = layers.back();
  auto log_rms = [](const LayerStats& l) { return 0.5 * std::log10(l.preact_mean * l.preact_mean + l.preact_std * l.preact_std); };
  double amp = -std::numeric_limits<double>::infinity();
  Index from = 0;
  for (const LayerStats& l : layers) {
    const double a = l.grad_preact_log10 - top.grad_preact_log10 + log_rms(l) - log_rms(top);
    if (std::isfinite(a) && a > amp) {
      amp = a;
      from = l.layer;
    }
  }
  const double eps = dtype == "f32" ? 0x1p-24 : 0x1p-53;
  if (!(amp + std::log10(eps) > -3)) return;
  s.notes.push_back(fmt::format(
      "{}: this network is chaotic: a relative change of layer {}'s pre-activations reaches layer "
      "{} multiplied by about 10^{:.1f}, and so does {}'s rounding ({:.0e}), so these figures "
      "may differ from exact arithmetic by 0.01 decades or more; {}",
      activation, from, top.layer, amp, dtype, eps,
      dtype == "f32" && amp + std::log10(0x1p-53) <= -3 ? "--dtype f64 is exact here"
                                                         : "no dtype of gradflow is exact here"));
}

}  // namespace

std::span<const SummaryMetric> summary_metrics() { return kSummaryMetrics; }

namespace {
constexpr ThresholdFlag kThresholdFlags[] = {
    {"vanishing-below", &Thresholds::vanishing_below, "vanishing",
     "Verdict 'vanishing' when layer 1's weight gradient is below this fraction of layer L's", "R"},
    {"exploding-above", &Thresholds::exploding_above, "exploding",
     "Verdict 'exploding' when layer 1's weight gradient is above this multiple of layer L's", "R"},
    {"saturated-above", &Thresholds::saturated_above, "saturated",
     "Verdict 'saturated' when the mean share of unit-samples on a flat tail "
     "(saturated_frac minus inactive_frac: dead zones count as dead units instead) is above this",
     "F", true, true},
    {"dead-above", &Thresholds::dead_above, "dead_units",
     "Verdict 'dead_units' when the share of dead hidden units is above this", "F", true, true},
    {"not-centred-above", &Thresholds::offset_above, "not_zero_centred",
     "Verdict 'not_zero_centred' when mean |act_mean| / rms(act) is above this", "F", true},
    {"signal-vanishing-below", &Thresholds::signal_vanishing_below, "signal_vanishing",
     "Verdict 'signal_vanishing' when layer L's pre-activation RMS is below this fraction of layer 1's", "R"},
    {"signal-exploding-above", &Thresholds::signal_exploding_above, "signal_exploding",
     "Verdict 'signal_exploding' when layer L's pre-activation RMS is above this multiple of layer 1's", "R"},
    {"grad-below", &Thresholds::grad_below, "grad_small",
     "Verdict 'grad_small' when even the largest layer's |dL/dW_l| is below this (the absolute scale)", "G"},
    {"grad-above", &Thresholds::grad_above, "grad_large",
     "Verdict 'grad_large' when the largest layer's |dL/dW_l| is above this", "G"},
};
}  // namespace

std::span<const ThresholdFlag> threshold_flags() { return kThresholdFlags; }

const SummaryMetric* find_summary_metric(std::string_view key) {
  for (const SummaryMetric& m : kSummaryMetrics)
    if (m.key == key) return &m;
  return nullptr;
}

Summary summarize(const PassResult& pass, const Thresholds& t, std::string_view activation,
                  std::string_view saturation, std::string_view dtype, std::span<const LayerOp> ops) {
  Summary s;
  const auto& layers = pass.layers;
  const auto L = static_cast<Index>(layers.size());
  auto say = [&](std::string verdict, std::string sentence) {
    s.verdict.push_back(std::move(verdict));
    s.sentences.push_back(fmt::format("{}: {}", activation, sentence));
  };

  if (pass.overflow_layer != 0) {
    const std::string where = pass.overflow_layer > L ? std::string("the logits")
                                                      : fmt::format("layer {}", pass.overflow_layer);
    say("exploding",
        fmt::format("the forward pass overflowed the {} range at {}: activations grow layer by "
                    "layer until they are infinite; lower the weight scale, or use --dtype f64",
                    dtype, where));
    return s;
  }

  s.loss = pass.loss;
  double sat_sum = 0, inactive_sum = 0, offset_sum = 0, act_mean_sum = 0, coherence_sum = 0;
  double dead = 0, units = 0;
  Index coherence_n = 0;
  s.saturated_frac_max = 0;
  s.dead_units_frac_max = 0;
  for (const LayerStats& l : layers) {
    sat_sum += l.saturated_frac;
    inactive_sum += l.inactive_frac;
    act_mean_sum += l.act_mean;
    s.saturated_frac_max = std::max(s.saturated_frac_max, l.saturated_frac);
    s.dead_units_frac_max = std::max(s.dead_units_frac_max, l.dead_units_frac);
    dead += std::round(l.dead_units_frac * static_cast<double>(l.width));
    units += static_cast<double>(l.width);
    const double rms = std::sqrt(l.act_mean * l.act_mean + l.act_std * l.act_std);
    offset_sum += rms > 0 ? std::abs(l.act_mean) / rms : 0.0;
    if (l.layer >= 2 && std::isfinite(l.dw_sign_coherence)) {
      coherence_sum += l.dw_sign_coherence;
      ++coherence_n;
    }
  }
  s.saturated_frac_mean = sat_sum / static_cast<double>(L);
  s.inactive_frac_mean = inactive_sum / static_cast<double>(L);
  s.dead_units_frac = dead / units;
  s.act_offset_mean = offset_sum / static_cast<double>(L);
  if (coherence_n > 0) s.dw_sign_coherence_mean = coherence_sum / static_cast<double>(coherence_n);
  s.grad_first_last_log10 = layers.front().grad_weight_log10 - layers.back().grad_weight_log10;
  if (L > 1) s.grad_factor_per_layer = std::pow(10.0, s.grad_first_last_log10 / static_cast<double>(L - 1));
  const double rms_first = std::hypot(layers.front().preact_mean, layers.front().preact_std);
  const double rms_last = std::hypot(layers.back().preact_mean, layers.back().preact_std);
  if (rms_first > 0 && rms_last > 0) s.signal_first_last_log10 = std::log10(rms_last) - std::log10(rms_first);
  if (L > 1) s.signal_factor_per_layer = std::pow(10.0, s.signal_first_last_log10 / static_cast<double>(L - 1));
  Index loudest = 0;  // the layer with the largest weight gradient
  for (const LayerStats& l : layers)
    if (std::isfinite(l.grad_weight_log10) && (loudest == 0 || l.grad_weight_log10 > s.grad_weight_log10_max)) {
      s.grad_weight_log10_max = l.grad_weight_log10;
      loudest = l.layer;
    }

  // The gradient verdict, from the ratio where it is defined; where not, saying why.
  if (pass.inexact_layer != 0) {
    const LayerStats& l = layers[static_cast<std::size_t>(pass.inexact_layer - 1)];
    say("inexact",
        fmt::format("{} cannot represent {}'s slope on {} of layer {}'s unit-samples ({}), and "
                    "they carry enough of the gradient that those of layers {} to 1 would not "
                    "be exact, so none is reported; {}: inexact",
                    dtype, activation, percent(l.slope_underflow_frac), l.layer,
                    range_phrase(dtype), l.layer, rerun_phrase(dtype)));
  } else if (pass.zero_grad_layer == L + 1) {
    s.notes.push_back(
        "the head's weights are all zero (--init fixup draws them so), so at initialisation no gradient reaches "
        "the hidden layers; the first training step gives the head weights and the gradient flows from the "
        "second on (`gradflow train` shows it)");
  } else if (pass.zero_grad_layer != 0) {
    // With dropout, d h = d a phi'(h) m / (1 - p): a unit the mask dropped on a sample passes
    // nothing there either (at small widths and batches every unit can be).
    const auto z = static_cast<std::size_t>(pass.zero_grad_layer);
    const double p = z <= ops.size() ? ops[z - 1].dropout : 0;
    say("vanishing",
        fmt::format("every unit of layer {} is {} on every sample, so the gradient is exactly "
                    "zero from there down to layer 1: vanishing",
                    pass.zero_grad_layer, p > 0 ? fmt::format("flat or dropped (dropout {:g})", p) : "flat"));
  } else if (!pass.blocks.empty() && std::all_of(pass.blocks.begin(), pass.blocks.end(),
                                                  [](const BlockStats& b) { return b.branch_ratio == 0; })) {
    // alpha = 0 (ReZero, SkipInit): no verdict on branch gradients that are 0 by construction.
    s.notes.push_back(fmt::format(
        "every residual branch is scaled by alpha = 0 (ReZero): at initialisation each block is the identity, "
        "the branches' weight gradients are exactly 0 (null), and the stream gradient passes every block "
        "unchanged (log10 |d s| {:.2f} at block 1, {:.2f} at block {})",
        pass.blocks.front().grad_stream_log10, pass.blocks.back().grad_stream_log10, pass.blocks.size()));
  } else if (L > 1 && !std::isfinite(s.grad_first_last_log10)) {
    say("vanishing", zero_input_sentence(layers, dtype));
  } else if (s.grad_first_last_log10 < std::log10(t.vanishing_below)) {
    say("vanishing", fmt::format("the first layer's gradient is {}: vanishing", ratio_phrase(s)));
  } else if (s.grad_first_last_log10 > std::log10(t.exploding_above)) {
    say("exploding", fmt::format("the first layer's gradient is {}: exploding", ratio_phrase(s)));
  }
  if (s.signal_first_last_log10 < std::log10(t.signal_vanishing_below) ||
      s.signal_first_last_log10 > std::log10(t.signal_exploding_above)) {
    const bool down = s.signal_first_last_log10 < 0;
    say(down ? "signal_vanishing" : "signal_exploding",
        fmt::format("the pre-activations' RMS goes from {:.3g} in layer 1 to {:.3g} in layer {} (10^{:+.1f}, x{:.2f} per "
                    "layer): the forward signal {}: signal {}",
                    rms_first, rms_last, L, s.signal_first_last_log10, s.signal_factor_per_layer,
                    down ? "fades on its way to the head" : "grows on its way to the head",
                    down ? "vanishing" : "exploding"));
  }
  if (s.grad_weight_log10_max < std::log10(t.grad_below)) {
    say("grad_small", fmt::format("the largest weight gradient, layer {}'s, is 10^{:.1f} (|dL/dW|): every layer "
                                  "learns slowly at a usual learning rate: small gradients",
                                  loudest, s.grad_weight_log10_max));
  } else if (s.grad_weight_log10_max > std::log10(t.grad_above)) {
    say("grad_large", fmt::format("the largest weight gradient, layer {}'s, is 10^{:+.1f} (|dL/dW|): a usual learning "
                                  "rate would throw the weights far: large gradients",
                                  loudest, s.grad_weight_log10_max));
  }
  // Saturation means a flat tail (sigmoid, tanh far from 0), where the slope is small but not
  // zero. Unit-samples in a dead zone (relu's x < 0) have zero slope: they count in
  // saturated_frac, but are judged by the dead-units verdict, not this one.
  const double tail = s.saturated_frac_mean - s.inactive_frac_mean;
  if (tail > t.saturated_above) {
    const Index w = worst_layer(layers, &LayerStats::saturated_frac);
    say("saturated",
        fmt::format("{} of unit-samples sit on a flat tail ({}), worst in layer {} ({}): saturated",
                    percent(tail), saturation, w,
                    percent(layers[static_cast<std::size_t>(w - 1)].saturated_frac)));
  }
  if (s.dead_units_frac > t.dead_above) {
    const Index w = worst_layer(layers, &LayerStats::dead_units_frac);
    say("dead_units",
        fmt::format("{} of hidden units are dead (zero slope on every sample of the batch), worst "
                    "in layer {} ({}): dead units",
                    percent(s.dead_units_frac), w, percent(s.dead_units_frac_max)));
  }
  if (s.act_offset_mean > t.offset_above) {
    const std::string coherence =
        std::isfinite(s.dw_sign_coherence_mean)
            ? fmt::format("sign coherence {:.2f} of 1", s.dw_sign_coherence_mean)
        : L == 1 ? std::string("sign coherence is measured from layer 2 on, and there is one layer")
                 : fmt::format("no weight gradient of layers 2 to {} to measure its sign coherence", L);
    say("not_zero_centred",
        fmt::format("activations average {:.2f} ({:.0f}% of their RMS), so each row of a weight "
                    "gradient leans to one sign ({}) and updates zig-zag: not zero-centred",
                    act_mean_sum / static_cast<double>(L), 100.0 * s.act_offset_mean, coherence));
  }
  underflow_note(s, layers, activation, dtype, pass.inexact_layer);
  rounding_note(s, layers, activation, dtype);
  if (s.verdict.empty()) {
    // An undefined ratio here is 0 by construction, as a note says: a ReZero net's branches
    // (alpha = 0) or every layer under a zero head (Fixup).
    const std::string grad = L == 1 || std::isfinite(s.grad_first_last_log10)
                                 ? fmt::format("the first layer's gradient is {}", ratio_phrase(s))
                             : pass.zero_grad_layer == L + 1
                                 ? std::string("every layer's gradient is exactly 0 at initialisation (a zero head)")
                                 : std::string("every layer's gradient is exactly 0 at initialisation (alpha = 0)");
    say("healthy", fmt::format("{}, {} saturated, {} dead units: healthy", grad, percent(tail),
                               percent(s.dead_units_frac)));
  }
  return s;
}

}  // namespace gf
