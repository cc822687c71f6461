#pragma once
// Sentences that explain a run's gradient by its architecture: BatchNorm's explosion at
// initialisation, Post-LN's skew of the gradient towards the output, and blocks that are the
// identity at init (Fixup). Each is triggered by a measured condition on the run, not by the
// flags alone (a relu Post-LN net, whose branches give back what the norm takes, gets none), and
// is appended to the verdict it explains (its sentence gets "; " and the reason) or, with no such
// verdict, added as a note.
#include <span>
#include <string_view>

#include "core/layer_op.h"
#include "core/summary.h"

namespace gf {

// The conditions, measured: thresholds a test can sit on either side of.
inline constexpr double kBatchNormGrowthAbove =
    1.02;  // grad_factor_per_layer: the gradient grows towards the input
inline constexpr double kPostNormSkewAbove = 1.0;  // log10 of the last layer's |dW| over the first's

// `ops`: the run's hidden layers and head (NetworkSpec::ops).
void explain_architecture(Summary& s, const PassResult& pass, std::span<const LayerOp> ops,
                          std::string_view activation);

}  // namespace gf
