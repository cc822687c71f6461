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
