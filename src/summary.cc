#include "summary.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gf {
namespace {

std::string percent(double frac) { return fmt::format("{:.1f}%", 100.0 * frac); }

// "10^-12.4 of the last layer's (x0.24 per layer)"
std::string ratio_phrase(const Summary& s) {
  if (std::isnan(s.grad_factor_per_layer)) return "the last layer's (a single layer)";
  return fmt::format("10^{:+.1f} of the last layer's (x{:.2f} per layer)", s.grad_first_last_log10,
                     s.grad_factor_per_layer);
}

Index worst_layer(const std::vector<LayerStats>& layers, double LayerStats::*field) {
  const auto it = std::max_element(layers.begin(), layers.end(), [&](const auto& a, const auto& b) {
    return a.*field < b.*field;
  });
  return it->layer;
}

const SummaryMetric kSummaryMetrics[] = {
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
    {"saturated_frac_mean", &Summary::saturated_frac_mean, "mean over layers of saturated_frac"},
    {"saturated_frac_max", &Summary::saturated_frac_max, "largest saturated_frac of any layer"},
    {"inactive_frac_mean", &Summary::inactive_frac_mean, "mean over layers of inactive_frac"},
    {"dead_units_frac", &Summary::dead_units_frac, "share of all hidden units that are dead"},
    {"dead_units_frac_max", &Summary::dead_units_frac_max, "largest dead_units_frac of any layer"},
    {"dw_sign_coherence_mean", &Summary::dw_sign_coherence_mean,
     "mean dw_sign_coherence of layers 2..L"},
    {"act_offset_mean", &Summary::act_offset_mean,
     "mean over layers of |act_mean| / sqrt(act_mean^2 + act_std^2): 0 zero-centred, 1 one-signed"},
};

}  // namespace

std::span<const SummaryMetric> summary_metrics() { return kSummaryMetrics; }

Summary summarize(const PassResult& pass, const Thresholds& t, std::string_view activation,
                  std::string_view saturation, std::string_view dtype) {
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

  if (pass.zero_grad_layer != 0) {
    say("vanishing",
        fmt::format("every unit of layer {} is flat on every sample, so the gradient is exactly "
                    "zero from there down to layer 1: vanishing",
                    pass.zero_grad_layer));
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
    say("not_zero_centred",
        fmt::format("activations average {:.2f} ({:.0f}% of their RMS), so each row of a weight "
                    "gradient leans to one sign (sign coherence {:.2f} of 1) and updates "
                    "zig-zag: not zero-centred",
                    act_mean_sum / static_cast<double>(L), 100.0 * s.act_offset_mean,
                    s.dw_sign_coherence_mean));
  }
  if (s.verdict.empty()) {
    say("healthy", fmt::format("the first layer's gradient is {}, {} saturated, {} dead units: "
                               "healthy",
                               ratio_phrase(s), percent(tail), percent(s.dead_units_frac)));
  }
  return s;
}

}  // namespace gf
