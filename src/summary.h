#pragma once
// One run's summary: the few numbers that say how the gradient fared, the verdicts, and a
// sentence for each verdict that a student can read.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"

namespace gf {

// When a verdict is given; each is a flag of `analyze` (--vanishing-below etc.).
struct Thresholds {
  double vanishing_below = 1e-2;  // first layer's weight gradient / last layer's
  double exploding_above = 1e2;
  double saturated_above = 0.3;   // mean saturated_frac minus mean inactive_frac (see summarize)
  double dead_above = 0.05;       // share of all hidden units that are dead
  double offset_above = 0.3;      // mean over layers of |act_mean| / rms(act)
};

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
  std::vector<std::string> verdict;     // vanishing, exploding, saturated, dead_units,
                                        // not_zero_centred, inexact, or healthy
  std::vector<std::string> sentences;   // one per verdict, prefixed "<activation>: "
  std::vector<std::string> notes;       // what qualifies the numbers (slopes below the dtype's
                                        // range), prefixed "<activation>: "
};

// sat_eps and dtype only shape the sentences.
// The summary's numbers, in output order (JSON keys, CSV columns, README).
struct SummaryMetric {
  std::string_view key;
  double Summary::*field;
  std::string_view description;
};
std::span<const SummaryMetric> summary_metrics();

// "0.24", or "1.1e-87" where two decimals would say nothing.
std::string factor_text(double v);

Summary summarize(const PassResult& pass, const Thresholds& t, std::string_view activation,
                  double sat_eps, std::string_view dtype);

}  // namespace gf
