#include "core/arch_sentences.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace gf {

namespace {

// Appends `why` to the sentence of `verdict` if the run has it, else adds it as a note.
void explain(Summary& s, std::string_view activation, std::string_view verdict,
             const std::string& why) {
  const auto it = std::find(s.verdict.begin(), s.verdict.end(), verdict);
  if (it != s.verdict.end()) {
    s.sentences[static_cast<std::size_t>(it - s.verdict.begin())] += "; " + why;
    return;
  }
  s.notes.push_back(fmt::format("{}: {}", activation, why));
}

bool has_norm(std::span<const LayerOp> ops, NormKind kind, OpKind where) {
  return std::any_of(ops.begin(), ops.end(),
                     [&](const LayerOp& op) { return op.norm == kind && op.kind == where; });
}

}  // namespace

void explain_architecture(Summary& s, const PassResult& pass, std::span<const LayerOp> ops,
                          std::string_view activation) {
  if (pass.overflow_layer != 0) return;
  // BatchNorm in a plain stack (Yang et al. 2019): batch statistics couple the samples, and the
  // gradient grows geometrically towards the input whatever the init.
  if (has_norm(ops, NormKind::batch, OpKind::dense_norm) &&
      s.grad_factor_per_layer > kBatchNormGrowthAbove)
    explain(
        s, activation, "exploding",
        fmt::format("the gradient grows by x{:.3f} per layer towards the input (its square by "
                    "x{:.3f}): BatchNorm's "
                    "gradient explosion at initialisation (Yang et al. 2019: E[phi'^2]/Var[phi] squared at "
                    "large batch, 1.4669 for relu; --theory gives it for this activation)",
                    s.grad_factor_per_layer, s.grad_factor_per_layer * s.grad_factor_per_layer));
  // Post-LN (Xiong et al. 2020): each block's norm sits on the stream, so on the way down it
  // divides the gradient by the stream's growth while the branch adds less than that back: the
  // layers near the output get far more gradient than the first ones, the more the deeper the
  // net. Pre-LN keeps the identity path clean. Said when measured: last over first >= 10x.
  const auto& layers = pass.layers;
  const double last_over_first =
      layers.size() >= 2 ? layers.back().grad_weight_log10 - layers.front().grad_weight_log10 : kNaN;
  if (has_norm(ops, NormKind::layer, OpKind::skip_add) || has_norm(ops, NormKind::rms, OpKind::skip_add))
    if (last_over_first >= kPostNormSkewAbove)
      explain(s, activation, "vanishing",
              fmt::format("the last layer's weight gradient is 10^{:.1f} x the first's: with the norm after each "
                          "block's sum (Post-LN) every block divides the gradient by the stream's growth on its "
                          "way down (Xiong et al. 2020); --norm-position pre keeps the skip path a clean identity",
                          last_over_first));
  const auto& blocks = pass.blocks;
  // Fixup (a zero last layer per branch) at init: measured, every branch adds exactly 0. ReZero
  // (alpha 0) says so in summarize's own note.
  const bool identity =
      !blocks.empty() && std::all_of(blocks.begin(), blocks.end(),
                                     [](const BlockStats& b) { return b.branch_ratio == 0; });
  const bool alpha0 = std::any_of(ops.begin(), ops.end(), [](const LayerOp& op) {
    return op.kind == OpKind::skip_add && op.alpha == 0;
  });
  if (identity && !alpha0)
    s.notes.push_back(
        fmt::format("{}: every block is the identity at initialisation: each branch adds exactly 0 "
                    "to the stream (branch_ratio 0 "
                    "in all {} blocks, a zero last layer per branch as Fixup draws it), so the "
                    "network is its input projection "
                    "and head until training moves the branches",
                    activation, blocks.size()));
}

}  // namespace gf
