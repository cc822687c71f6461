#pragma once
// One run's summary: the few numbers that say how the gradient fared, the verdicts, and a
// sentence for each verdict that a student can read.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"

namespace gf {

// When a verdict is given; each is a flag of `analyze` (--vanishing-below etc.).
struct Thresholds {
  double vanishing_below = 1e-2;  // first layer's weight gradient / last layer's
  double exploding_above = 1e2;
  double saturated_above = 0.3;   // mean saturated_frac minus mean inactive_frac (see summarize)
  double dead_above = 0.05;       // share of all hidden units that are dead
  double offset_above = 0.3;      // mean over layers of |act_mean| / rms(act)
  double signal_vanishing_below = 0.1;  // last layer's pre-activation RMS / first layer's
  double signal_exploding_above = 10;
  double grad_below = 1e-3;       // the largest layer's |dL/dW_l|: the absolute gradient scale
  double grad_above = 1e3;
};

// The threshold flags, in flag and config-key order: each verdict's flag, its help, its
// placeholder and range (a fraction in [0,1], or a ratio or scale in (0, inf)), and whether
// `train` has it too (its sentences on dying and saturating units). Flags, config keys, sweep
// axes, `train`'s flags and the README's verdict table (tests/cli/readme_test.cc) read this list.
struct ThresholdFlag {
  std::string_view name;  // flag without "--"; also the config key
  double Thresholds::*field;
  std::string_view verdict;
  std::string_view help;
  std::string_view type_name;  // R: a ratio, F: a fraction, G: a gradient norm
  bool fraction = false;
  bool in_train = false;
};
std::span<const ThresholdFlag> threshold_flags();

struct Summary {
  double loss = kNaN;
  double grad_first_last_log10 = kNaN;  // grad_weight_log10(1) - grad_weight_log10(L)
  double grad_factor_per_layer = kNaN;  // 10^(that / (L-1)): < 1 vanishing, > 1 exploding
  double saturated_frac_mean = kNaN, saturated_frac_max = kNaN;
  double inactive_frac_mean = kNaN;
  double dead_units_frac = kNaN;        // over all hidden units
  double dead_units_frac_max = kNaN;    // worst layer
  double dw_sign_coherence_mean = kNaN; // layers 2..L (layer 1 sees the data, not activations)
  double act_offset_mean = kNaN;        // mean over layers of |act_mean| / sqrt(act_mean^2 + act_std^2)
  // The forward signal: log10 of the pre-activations' RMS, sqrt(mean^2 + std^2), in layer L minus
  // that in layer 1 (below 0 the signal shrinks on its way up), and the factor per layer.
  double signal_first_last_log10 = kNaN;
  double signal_factor_per_layer = kNaN;
  double grad_weight_log10_max = kNaN;  // the absolute gradient scale: the largest layer's log10 |dL/dW_l|
  std::vector<std::string> verdict;     // vanishing, exploding, signal_vanishing, signal_exploding,
                                        // grad_small, grad_large, saturated, dead_units,
                                        // not_zero_centred, inexact, or healthy
  std::vector<std::string> sentences;   // one per verdict, prefixed "<activation>: "
  std::vector<std::string> notes;       // what qualifies the numbers (slopes below the dtype's
                                        // range), prefixed "<activation>: "
};

// How a summary metric reduces a per-layer metric over the layers (for what one count changes
// it by: baseline.cc's count_quantum): the mean over layers 1..L or 2..L, the largest, or
// pooled over all hidden units.
enum class OverLayers { none, mean, mean_from_2, max, pooled };

// The summary's numbers, in output order (JSON keys, CSV columns, README).
struct SummaryMetric {
  std::string_view key;
  double Summary::*field;
  std::string_view description;
  double neutral = kNaN;  // signed metrics: the value that means "neither" (0 for a log ratio, 1 for a factor)
  std::string_view of = {};  // the per-layer metric it reduces, if it is one's reduction
  OverLayers over = OverLayers::none;
};
std::span<const SummaryMetric> summary_metrics();
const SummaryMetric* find_summary_metric(std::string_view key);

// "0.24", or "1.1e-87" where two decimals would say nothing.
std::string factor_text(double v);

// `saturation` (what counts as saturated, "slope below 0.1 of the maximum"), dtype and the
// network's ops (each layer's dropout) only shape the sentences.
Summary summarize(const PassResult& pass, const Thresholds& t, std::string_view activation,
                  std::string_view saturation, std::string_view dtype, std::span<const LayerOp> ops = {});

}  // namespace gf
