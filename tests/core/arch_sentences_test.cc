// The architecture's sentences (core/arch_sentences): each appears when its measured condition
// holds and not when it fails, with the measured numbers it quotes.
#include "core/arch_sentences.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

#include "core/analysis.h"
#include "residual_config.h"

using namespace gf;

namespace {

// Every sentence and note of the run, one string.
std::string said(const RunResult& r) {
  std::string out;
  for (const std::string& s : r.summary.sentences) out += s + "\n";
  for (const std::string& s : r.summary.notes) out += s + "\n";
  return out;
}

bool says(const RunResult& r, const std::string& text) {
  return said(r).find(text) != std::string::npos;
}

AnalysisConfig plain_normed(NormKind norm) {
  AnalysisConfig c;
  c.activations = {"relu"};
  c.depth = 20;
  c.width = {256};
  c.batch = 128;
  c.norm = norm;
  c.loss = LossKind::random;
  c.threads = 2;
  return c;
}

}  // namespace

TEST_CASE(
    "BatchNorm's explosion sentence: with batch statistics the gradient grows; not with LayerNorm "
    "or none") {
  const RunResult bn = run_one(plain_normed(NormKind::batch), *find_activation("relu"));
  const double f = bn.summary.grad_factor_per_layer;
  MESSAGE("BatchNorm relu, depth 20: gradient factor per layer ", f, " (squared ", f * f, ")");
  REQUIRE(f > kBatchNormGrowthAbove);
  CAPTURE(said(bn));
  CHECK(says(bn, fmt::format("the gradient grows by x{:.3f} per layer towards the input", f)));
  CHECK(says(bn, "BatchNorm's gradient explosion at initialisation (Yang et al. 2019"));
  // The same stack with LayerNorm or without a norm: the factor stays near 1 and nothing is said.
  for (NormKind k : {NormKind::layer, NormKind::none}) {
    const RunResult other = run_one(plain_normed(k), *find_activation("relu"));
    CAPTURE(said(other));
    CHECK(other.summary.grad_factor_per_layer < kBatchNormGrowthAbove);
    CHECK(!says(other, "BatchNorm"));
  }
}

TEST_CASE(
    "Fixup at init: every block is the identity, said from the measured branch ratios; not for "
    "alpha 1 or ReZero") {
  AnalysisConfig c = test::residual_config("tanh", 8, 2, 32);
  c.init = "fixup";
  const RunResult fixup = run_one(c, *find_activation("tanh"));
  for (const BlockStats& b : fixup.pass.blocks) REQUIRE(b.branch_ratio == 0);
  CAPTURE(said(fixup));
  CHECK(says(
      fixup,
      "every block is the identity at initialisation: each branch adds exactly 0 to the stream "
      "(branch_ratio 0 in all 4 blocks"));
  const RunResult one = run_one(test::residual_config("tanh", 8, 2, 32), *find_activation("tanh"));
  CHECK(one.pass.blocks[0].branch_ratio > 0);
  CHECK(!says(one, "every block is the identity at initialisation: each branch"));
  const RunResult rezero =
      run_one(test::residual_config("tanh", 8, 2, 32, "0"), *find_activation("tanh"));
  CHECK(!says(rezero, "every block is the identity at initialisation: each branch"));
  CHECK(says(rezero, "ReZero"));  // summarize's own note
}

TEST_CASE("Post-LN's sentence: said when the last layer's gradient is 10x the first's or more; not for Pre-LN or relu") {
  // norm_test's Post-LN test: sigmoid branches give back less than the norm takes, so the skew
  // grows with depth for Post-LN and stays bounded for Pre-LN.
  AnalysisConfig c = test::residual_config("sigmoid", 48, 2, 128, "1", 32);
  c.norm = NormKind::layer;
  c.norm_position = NormPosition::post;
  const RunResult post = run_one(c, *find_activation("sigmoid"));
  const double skew = post.pass.layers.back().grad_weight_log10 - post.pass.layers.front().grad_weight_log10;
  MESSAGE("sigmoid, 24 blocks: Post-LN last/first layer gradient 10^", skew);
  REQUIRE(skew >= kPostNormSkewAbove);
  CAPTURE(said(post));
  CHECK(says(post, fmt::format("the last layer's weight gradient is 10^{:.1f} x the first's: with the norm after each "
                               "block's sum (Post-LN)",
                               skew)));
  c.norm_position = NormPosition::pre;
  const RunResult pre = run_one(c, *find_activation("sigmoid"));
  CAPTURE(said(pre));
  CHECK(pre.pass.layers.back().grad_weight_log10 - pre.pass.layers.front().grad_weight_log10 < kPostNormSkewAbove);
  CHECK(!says(pre, "Post-LN"));
  // relu branches give back what the norm takes: no skew, nothing said.
  AnalysisConfig r = test::residual_config("relu", 24, 2, 128, "1", 32);
  r.norm = NormKind::layer;
  r.norm_position = NormPosition::post;
  const RunResult relu = run_one(r, *find_activation("relu"));
  CAPTURE(said(relu));
  CHECK(relu.pass.layers.back().grad_weight_log10 - relu.pass.layers.front().grad_weight_log10 < kPostNormSkewAbove);
  CHECK(!says(relu, "Post-LN"));
}
