#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/real_text.h"
#include <vector>

namespace gf {
namespace {

using R = Recorded;
using C = Counts;

constexpr LayerMetric kLayerMetrics[] = {
    {"preact_mean", &LayerStats::preact_mean, "mean of h_l over all (sample, unit) entries", "h", R::analyze,
     C::none, 0, {"h mean", 8, "+.3f"}},
    {"preact_std", &LayerStats::preact_std, "standard deviation of h_l over all entries", "h", R::analyze, C::none,
     kNaN, {"h std", 7, ".3f"}},
    {"act_mean", &LayerStats::act_mean, "mean of a_l = phi(h_l): 0 when zero-centred", "a", R::both, C::none, 0,
     {"a mean", 7, "+.3f"}, 5, "mean of a_l = phi(h_l) over the evaluation batch"},
    {"act_std", &LayerStats::act_std, "standard deviation of a_l", "a", R::analyze, C::none, kNaN,
     {"a std", 7, ".3f"}},
    {"saturated_frac", &LayerStats::saturated_frac,
     "share of (sample, unit) pairs with |phi'(h)| < sat_eps x max slope", "1", R::both, C::unit_samples, kNaN,
     {"sat%", 6, ".1f", true}, 2,
     "share of (sample, unit) pairs of the evaluation batch with |phi'(h)| < sat_eps x max slope"},
    {"saturated_units_frac", &LayerStats::saturated_units_frac, "share of units saturated on every sample of the batch",
     "1", R::analyze, C::units, kNaN, {"satU%", 6, ".1f", true}},
    {"inactive_frac", &LayerStats::inactive_frac, "share of pairs with phi'(h) exactly 0 (0 for smooth activations)",
     "1", R::both, C::unit_samples, kNaN, {"inact%", 6, ".1f", true}, 3,
     "share of (sample, unit) pairs of the evaluation batch with phi'(h) exactly 0 (relu's off half)"},
    {"dead_units_frac", &LayerStats::dead_units_frac,
     "share of units with phi'(h) exactly 0 on every sample (dead ReLUs)", "1", R::both, C::units, kNaN,
     {"dead%", 6, ".1f", true}, 4, "share of units with phi'(h) exactly 0 on every sample of the evaluation batch"},
    {"slope_underflow_frac", &LayerStats::slope_underflow_frac,
     "share of pairs whose slope is not 0 but below the dtype's smallest normal number (f32: "
     "1.2e-38): stored as 0 or a subnormal; see the run's notes for whether that cost exactness",
     "1", R::analyze, C::none, kNaN, {"uflow%", 6, ".1f", true, true,
      "unit-samples whose slope is below {dtype}'s range (see the note)"}},
    {"grad_preact_log10", &LayerStats::grad_preact_log10, "log10 of ||d loss / d h_l||_F (--norm: of d loss / d u_l, phi's input)", "log10", R::analyze,
     C::none, kNaN, {"log|dh|", 8, ".2f"}},
    {"grad_weight_log10", &LayerStats::grad_weight_log10, "log10 of ||d loss / d W_l||_F", "log10", R::both, C::none,
     kNaN, {"log|dW|", 8, ".2f"}, 0, "log10 of ||d loss / d W_l||_F on the step's mini-batch"},
    {"grad_weight_rel_log10", &LayerStats::grad_weight_rel_log10,
     "grad_weight_log10(l) - grad_weight_log10(L): decades below the last hidden layer", "log10", R::analyze,
     C::none, 0, {"rel", 7, "+.2f"}},
    {"weight_log10", &LayerStats::weight_log10, "log10 of ||W_l||_F", "log10", R::analyze, C::none, kNaN,
     {"log|W|", 7, ".2f"}},
    {"dw_sign_coherence", &LayerStats::dw_sign_coherence,
     "mean over rows of |sum_j sign(dW_ij)| / fan_in: 1 when every row has one sign", "1", R::both,
     C::weight_signs, kNaN, {"coher", 6, ".3f"}, 6,
     "mean over rows of |sum_j sign(dW_ij)| / fan_in: 1 when every row's update has one sign"},
    {"norm_grad_ratio_log10", &LayerStats::norm_grad_ratio_log10,
     "--norm: log10 of ||d loss / d h_l|| / ||d loss / d N(h_l)||, the gradient's gain across the layer's norm "
     "(> 0: amplified); empty without a norm",
     "log10", R::analyze, C::none, 0, {"norm", 6, "+.2f", false, true, "log10 of the gradient's gain across the norm"}},
    {"update_ratio_log10", &LayerStats::update_ratio_log10,
     "log10 of ||delta W_l|| / ||W_l|| for the step just taken (rule of thumb: near -3)", "log10", R::train,
     C::none, kNaN, {}, 1},
};

// Brock et al. 2021's signal propagation plot, per block, and the stream gradient at its input.
constexpr BlockMetric kBlockMetrics[] = {
    {"stream_rms", &BlockStats::stream_rms, "RMS of the residual stream s entering the block", "s"},
    {"grad_stream_log10", &BlockStats::grad_stream_log10,
     "log10 of ||d loss / d s||_F at the block's input (both paths)", "log10"},
    {"branch_ratio", &BlockStats::branch_ratio,
     "average channel variance of alpha F(s) over that of s: how much the branch adds to the stream", "1"},
};

std::vector<LayerMetric> select(bool train) {
  std::vector<LayerMetric> out;
  for (const LayerMetric& m : kLayerMetrics)
    if (train ? m.in_train() : m.in_analyze()) out.push_back(m);
  if (train)
    std::stable_sort(out.begin(), out.end(),
                     [](const LayerMetric& a, const LayerMetric& b) { return a.train_order < b.train_order; });
  return out;
}

}  // namespace

std::span<const LayerMetric> declared_layer_metrics() { return kLayerMetrics; }

std::span<const LayerMetric> layer_metrics() {
  static const std::vector<LayerMetric> analyze = select(false);
  return analyze;
}

std::span<const LayerMetric> train_layer_metrics() {
  static const std::vector<LayerMetric> train = select(true);
  return train;
}

std::span<const BlockMetric> block_metrics() { return kBlockMetrics; }

const BlockMetric* find_block_metric(std::string_view key) {
  for (const BlockMetric& m : kBlockMetrics)
    if (m.key == key) return &m;
  return nullptr;
}

const BlockStats* block_of_layer(std::span<const BlockStats> blocks, Index layer) {
  for (const BlockStats& b : blocks)
    if (layer >= b.first_layer && layer <= b.last_layer) return &b;
  return nullptr;
}

std::string block_csv_header() {
  std::string out = ",block";
  for (const BlockMetric& m : kBlockMetrics) out += fmt::format(",block_{}", m.key);
  return out;
}

std::string block_csv_cells(std::span<const BlockStats> blocks, Index layer) {
  const BlockStats* b = block_of_layer(blocks, layer);
  std::string out = "," + (b ? std::to_string(b->block) : std::string());
  for (const BlockMetric& m : kBlockMetrics) out += "," + (b ? csv_number(b->*m.field) : std::string());
  return out;
}

namespace {

// How far apart the stream's gradient is between blocks, in decades: 0 when every block passes
// the gradient on unchanged (ReZero, Fixup at init), large when the stream explodes or vanishes.
double grad_stream_spread(std::span<const BlockStats> blocks) {
  if (blocks.empty()) return kNaN;
  double lo = kInf, hi = -kInf;
  for (const BlockStats& b : blocks) {
    if (!std::isfinite(b.grad_stream_log10)) return kNaN;
    lo = std::min(lo, b.grad_stream_log10);
    hi = std::max(hi, b.grad_stream_log10);
  }
  return hi - lo;
}

constexpr BlockRunMetric kBlockRunMetrics[] = {
    {"grad_stream_spread_log10", &grad_stream_spread,
     "max - min over the blocks of grad_stream_log10: how many decades the stream gradient spans"},
};

}  // namespace

std::span<const BlockRunMetric> block_run_metrics() { return kBlockRunMetrics; }

const BlockRunMetric* find_block_run_metric(std::string_view key) {
  for (const BlockRunMetric& m : kBlockRunMetrics)
    if (m.key == key) return &m;
  return nullptr;
}

const LayerMetric* find_layer_metric(std::string_view key) {
  for (const LayerMetric& m : layer_metrics())
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace gf
