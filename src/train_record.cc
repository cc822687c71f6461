#include "train_record.h"

#include <fmt/format.h>

namespace gf {
namespace {
const TrainLayerMetric kTrainLayerMetrics[] = {
    {"grad_weight_log10", &LayerRecord::grad_weight_log10,
     "log10 of ||d loss / d W_l||_F on the step's mini-batch"},
    {"update_ratio_log10", &LayerRecord::update_ratio_log10,
     "log10 of ||delta W_l|| / ||W_l|| for the step just taken (rule of thumb: near -3)"},
    {"saturated_frac", &LayerRecord::saturated_frac,
     "share of (sample, unit) pairs of the evaluation batch with |phi'(h)| < sat_eps x max slope"},
    {"inactive_frac", &LayerRecord::inactive_frac,
     "share of (sample, unit) pairs of the evaluation batch with phi'(h) exactly 0 (relu's off half)"},
    {"dead_units_frac", &LayerRecord::dead_units_frac,
     "share of units with phi'(h) exactly 0 on every sample of the evaluation batch"},
    {"act_mean", &LayerRecord::act_mean, "mean of a_l = phi(h_l) over the evaluation batch"},
    {"dw_sign_coherence", &LayerRecord::dw_sign_coherence,
     "mean over rows of |sum_j sign(dW_ij)| / fan_in: 1 when every row's update has one sign"},
};
}  // namespace

std::span<const TrainLayerMetric> train_layer_metrics() { return kTrainLayerMetrics; }

std::string_view run_end_name(RunEnd e) {
  switch (e) {
    case RunEnd::completed: return "completed";
    case RunEnd::stopped_at_target: return "stopped_at_target";
    case RunEnd::diverged: return "diverged";
    case RunEnd::interrupted: return "interrupted";
  }
  return "?";
}

std::string TrainRun::label(bool with_seed) const {
  std::string out = activation;
  if (lr_in_label) out += fmt::format(" lr {:g}", lr);
  if (with_seed) out += fmt::format(" seed {}", seed);
  return out;
}

}  // namespace gf
