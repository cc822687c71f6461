#pragma once
// `analyze --theory`: mean-field predictions for the very network `analyze` measured (its
// widths, init, biases, input and batch), layer by layer beside the measured values, a summary
// of how well they agree, and notes where the theory's assumptions do not hold.
#include <optional>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "theory/jacobian_theory.h"
#include "theory/mean_field.h"

namespace gf {

struct TheoryComparison {
  std::string method;                 // "closed form" or "quadrature"
  double sigma_w2 = 0;                // of the last hidden layer (the fixed point's)
  FixedPoint fixed;
  std::vector<LayerTheory> predicted;
  // Measured counterparts, per layer (NaN where not measured).
  std::vector<double> preact_var;             // preact_std^2
  std::vector<double> grad_preact_rel_log10;  // grad_preact_log10(l) - grad_preact_log10(L)
  // Agreement over the layers where both exist (NaN if none).
  Index layers_compared = 0;
  double q_rel_mean_abs = 0;         // mean |preact_var / q_l - 1|
  double grad_preact_mean_abs = 0;   // mean |measured - predicted|, decades
  double grad_weight_mean_abs = 0;   // same for grad_weight_rel_log10
  double dead_units_mean_abs = 0;    // NaN without a dead zone
  // Residual nets: per block, predicted and measured (grad_stream_log10 relative to the last block).
  std::vector<BlockTheory> predicted_blocks;
  std::vector<double> grad_stream_rel_log10;
  Index blocks_compared = 0;
  double stream_rms_rel_mean_abs = kNaN;  // mean |stream_rms / predicted - 1|
  double grad_stream_mean_abs = kNaN;     // mean |measured - predicted|, decades
  std::vector<std::string> notes;    // where the theory's assumptions do not hold
  // --jacobian: free probability's prediction beside the measured spectrum (measured: r.jacobian).
  std::optional<JacobianTheory> jacobian;
};

// The model of the network `analyze` builds for this run's activation.
MeanFieldModel mean_field_model(const AnalysisConfig& c, const Activation& act);

TheoryComparison compare_with_theory(const AnalysisConfig& c, const RunResult& r);

}  // namespace gf
