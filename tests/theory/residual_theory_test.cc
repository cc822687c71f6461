// Residual mean field (Yang & Schoenholz 2017) against closed forms and against measurement.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"
#include "theory/mean_field.h"
#include "theory/theory_compare.h"

using namespace gf;

namespace {

// A residual stack of `blocks` blocks of 2 layers of width n, every weight variance sigma_w2,
// no biases, N(0, 1) inputs (no input projection).
MeanFieldModel residual_model(const char* act, Index blocks, double alpha, double sigma_w2) {
  MeanFieldModel m;
  m.phi = phi_of(act);
  const Index n = 64;
  m.ops = residual_stack(n, n, blocks, 2, *m.phi.act, 0.01, alpha, 10);
  m.ops.pop_back();  // the head
  m.sigma_w2.assign(m.ops.size(), sigma_w2);
  m.widths.assign(m.ops.size() + 1, n);
  m.batch = 64;
  return m;
}

}  // namespace

TEST_CASE("residual theory, linear branches: E s_k^2 = (1 + alpha^2 v)^k and gradient factor 1 + alpha^2 v per block") {
  // F(s) = W_2 W_1 s has gain v = sigma_w2^2; s' = s + alpha F(s).
  const double sw2 = 1.3, alpha = 0.7, v = sw2 * sw2;
  const Index B = 6;
  std::vector<BlockTheory> blocks;
  const std::vector<LayerTheory> layers = predict_layers(residual_model("identity", B, alpha, sw2), &blocks);
  REQUIRE(blocks.size() == static_cast<std::size_t>(B));
  REQUIRE(layers.size() == static_cast<std::size_t>(2 * B));
  const double g = 1 + alpha * alpha * v;
  for (Index k = 1; k <= B; ++k) {
    CAPTURE(k);
    const BlockTheory& b = blocks[static_cast<std::size_t>(k - 1)];
    CHECK(b.stream_rms == doctest::Approx(std::pow(g, 0.5 * static_cast<double>(k - 1))).epsilon(1e-12));
    CHECK(b.grad_stream_rel_log10 == doctest::Approx(0.5 * static_cast<double>(B - k) * std::log10(g)).epsilon(1e-12));
    CHECK(b.branch_ratio == doctest::Approx(alpha * alpha * v).epsilon(1e-12));
    // The branch's first layer sees the stream: q = sigma_w2 E s^2; its last, sigma_w2 times that.
    const LayerTheory& first = layers[static_cast<std::size_t>(2 * k - 2)];
    const LayerTheory& last = layers[static_cast<std::size_t>(2 * k - 1)];
    CHECK(first.q == doctest::Approx(sw2 * std::pow(g, static_cast<double>(k - 1))).epsilon(1e-12));
    CHECK(last.q == doctest::Approx(v * std::pow(g, static_cast<double>(k - 1))).epsilon(1e-12));
    // dL/dh of the last layer is alpha dL/ds'; of the first, sqrt(sigma_w2) times that.
    const double g_after = 0.5 * static_cast<double>(B - k) * std::log10(g);
    CHECK(last.grad_preact_rel_log10 == doctest::Approx(g_after).epsilon(1e-12));
    CHECK(first.grad_preact_rel_log10 == doctest::Approx(g_after + 0.5 * std::log10(sw2)).epsilon(1e-12));
  }
}

TEST_CASE("residual theory: alpha = 1/sqrt(blocks) keeps E s^2 below e^v; alpha 0 keeps the stream and its gradient") {
  const double sw2 = 1.5, v = sw2 * sw2;
  for (Index B : {4, 16, 64}) {
    std::vector<BlockTheory> blocks;
    predict_layers(residual_model("identity", B, 1 / std::sqrt(static_cast<double>(B)), sw2), &blocks);
    const double last2 = blocks.back().stream_rms * blocks.back().stream_rms;
    CHECK(last2 * (1 + v / static_cast<double>(B)) < std::exp(v));
  }
  std::vector<BlockTheory> blocks;
  predict_layers(residual_model("tanh", 8, 0.0, sw2), &blocks);
  for (const BlockTheory& b : blocks) {
    CHECK(b.stream_rms == 1.0);
    CHECK(b.grad_stream_rel_log10 == 0.0);
    CHECK(b.branch_ratio == 0.0);
  }
}

TEST_CASE("measured: residual tanh and relu nets, width 1024: stream RMS within 4%, stream gradient within 0.05 decades") {
  // 4 seeds x 8 blocks of two 1024 x 1024 layers, --loss random (the theory's backward pass).
  // Seed to seed the stream's RMS scatters by a few % at the late blocks of the relu net (seed 0
  // alone is 7% high at block 6), so 4 seeds: their mean was within 2.5% for relu, 0.5% for tanh.
  for (const std::string act : {"tanh", "relu"}) {
    CAPTURE(act);
    AnalysisConfig c;
    c.activations = {act};
    c.depth = 16;
    c.residual = 2;
    c.width = {1024};
    c.input_dim = 1024;
    c.batch = 32;
    c.loss = LossKind::random;
    c.sigma_w2 = 1.2;
    c.threads = 2;
    const int seeds = 4;
    std::vector<double> rms(8, 0.0), grad(8, 0.0), ratio(8, 0.0);
    TheoryComparison t;
    for (int s = 0; s < seeds; ++s) {
      c.seed = static_cast<std::uint64_t>(s);
      const RunResult r = run_one(c, *find_activation(act));
      t = compare_with_theory(c, r);
      REQUIRE(r.pass.blocks.size() == 8);
      for (std::size_t k = 0; k < 8; ++k) {
        rms[k] += r.pass.blocks[k].stream_rms / seeds;
        grad[k] += t.grad_stream_rel_log10[k] / seeds;
        ratio[k] += r.pass.blocks[k].branch_ratio / seeds;
      }
    }
    REQUIRE(t.predicted_blocks.size() == 8);
    double worst_rms = 0, worst_g = 0, worst_ratio = 0;
    for (std::size_t k = 0; k < 8; ++k) {
      CAPTURE(k + 1);
      const BlockTheory& p = t.predicted_blocks[k];
      CHECK(std::abs(rms[k] / p.stream_rms - 1) < 0.04);
      CHECK(std::abs(grad[k] - p.grad_stream_rel_log10) < 0.05);
      CHECK(std::abs(ratio[k] / p.branch_ratio - 1) < 0.1);
      worst_rms = std::max(worst_rms, std::abs(rms[k] / p.stream_rms - 1));
      worst_g = std::max(worst_g, std::abs(grad[k] - p.grad_stream_rel_log10));
      worst_ratio = std::max(worst_ratio, std::abs(ratio[k] / p.branch_ratio - 1));
    }
    MESSAGE(act, ": worst block: rms ", worst_rms * 100, "%, stream gradient ", worst_g, " decades, branch ratio ",
            worst_ratio * 100, "%; predicted first-block gradient ", t.predicted_blocks.front().grad_stream_rel_log10,
            " decades, last stream rms ", t.predicted_blocks.back().stream_rms);
    // Not a flat profile: the stream and its gradient both grow over the blocks.
    CHECK(t.predicted_blocks.front().grad_stream_rel_log10 > 0.3);
    CHECK(t.predicted_blocks.back().stream_rms > 2);
    // Per layer as for plain stacks.
    CHECK(t.q_rel_mean_abs < 0.05);
    CHECK(t.grad_preact_mean_abs < 0.05);
  }
}
