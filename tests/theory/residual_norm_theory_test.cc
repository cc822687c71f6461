// Mean field of a norm inside residual blocks (Pre-LN and Post-LN, Xiong et al. 2020) against
// hand-derived closed forms, an independent integral, and measurement.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "closed_forms.h"
#include "residual_config.h"
#include "core/analysis.h"
#include "theory/mean_field.h"
#include "theory/theory_compare.h"

using namespace gf;
using test::gauss_mean;

namespace {

// `blocks` blocks of 2 layers of width n with one norm each at `position`, every weight variance
// sigma_w2, no biases, N(0, 1) inputs (E x^2 = 1, no input projection).
MeanFieldModel normed_residual_model(const char* act, Index blocks, double alpha, double sigma_w2, NormKind norm,
                                     NormPosition position, double eps, Index n) {
  MeanFieldModel m;
  m.phi = phi_of(act);
  m.ops = residual_stack(n, n, blocks, 2, *m.phi.act, 0.01, alpha, 10, norm, position, eps);
  m.ops.pop_back();  // the head
  m.sigma_w2.assign(m.ops.size(), sigma_w2);
  m.widths.assign(m.ops.size() + 1, n);
  m.batch = 64;
  return m;
}

// grad_stream_rel_log10 of block k (1-based) from the per-block squared factors
// f_j = ||dL/ds_j||^2 / ||dL/ds_{j+1}||^2: half the sum of log10 f_j over j = k .. B - 1.
template <class Factor>
double rel_from_factors(Index k, Index B, Factor factor) {
  double sum = 0;
  for (Index j = k; j < B; ++j) sum += std::log10(factor(j));
  return 0.5 * sum;
}

}  // namespace

TEST_CASE("residual norm theory, relu, width -> infinity, eps 0: Pre-LN's E s^2 grows linearly, Post-LN's stays 1") {
  // By hand: with u = N(s) of unit variance, the branch's first layer has q = sigma_w2, E relu^2 =
  // q / 2, the linear last layer V = sigma_w2^2 / 2; backwards chi_branch = sigma_w2 * 1/2 *
  // sigma_w2 = sigma_w2^2 / 2. Pre: E s_k^2 = 1 + (k - 1) alpha^2 V and the factor per block is
  // 1 + alpha^2 chi_branch / E s_k^2 (the norm divides by sqrt(E s^2)). Post: E s_k^2 = 1 and the
  // factor (1 + alpha^2 chi_branch) / (1 + alpha^2 V) = 1 for relu at any sigma_w2.
  const Index B = 6, n = 1'000'000'000;
  for (NormKind norm : {NormKind::layer, NormKind::rms}) {
    for (double sw2 : {1.0, 2.0, 3.0}) {
      for (double alpha : {1.0, 0.5}) {
        CAPTURE(static_cast<int>(norm));
        CAPTURE(sw2);
        CAPTURE(alpha);
        const double V = sw2 * sw2 / 2, chi = sw2 * sw2 / 2, a2 = alpha * alpha;
        std::vector<BlockTheory> pre, post;
        predict_layers(normed_residual_model("relu", B, alpha, sw2, norm, NormPosition::pre, 0, n), &pre);
        predict_layers(normed_residual_model("relu", B, alpha, sw2, norm, NormPosition::post, 0, n), &post);
        REQUIRE(pre.size() == static_cast<std::size_t>(B));
        REQUIRE(post.size() == static_cast<std::size_t>(B));
        auto q_pre = [&](Index k) { return 1 + static_cast<double>(k - 1) * a2 * V; };
        for (Index k = 1; k <= B; ++k) {
          CAPTURE(k);
          const auto i = static_cast<std::size_t>(k - 1);
          CHECK(pre[i].stream_rms == doctest::Approx(std::sqrt(q_pre(k))).epsilon(1e-7));
          CHECK(post[i].stream_rms == doctest::Approx(1).epsilon(1e-7));
          const double want_pre = rel_from_factors(k, B, [&](Index j) { return 1 + a2 * chi / q_pre(j); });
          CHECK(pre[i].grad_stream_rel_log10 == doctest::Approx(want_pre).epsilon(1e-7));
          CHECK(std::abs(post[i].grad_stream_rel_log10) < 1e-7);
        }
      }
    }
  }
}

TEST_CASE("residual norm theory, tanh Post-LN: the factor per block is (1 + alpha^2 chi_branch) / (1 + alpha^2 V), "
          "an independent integral") {
  // u = N(s) of unit variance: h = W_1 u ~ N(0, sigma_w2), V = sigma_w2 E[tanh(h)^2], chi_branch =
  // sigma_w2^2 E[tanh'(h)^2]. The same factor at every block: geometric in depth.
  const Index B = 5, n = 1'000'000'000;
  for (double sw2 : {0.5, 1.0, 2.5}) {
    const double s = std::sqrt(sw2);
    const double phi2 = gauss_mean([&](double z) { return std::tanh(s * z) * std::tanh(s * z); });
    const double dphi2 = gauss_mean([&](double z) {
      const double d = 1 - std::tanh(s * z) * std::tanh(s * z);
      return d * d;
    });
    for (double alpha : {1.0, 0.5}) {
      CAPTURE(sw2);
      CAPTURE(alpha);
      const double a2 = alpha * alpha, V = sw2 * phi2, chi = sw2 * sw2 * dphi2;
      std::vector<BlockTheory> post, pre;
      predict_layers(normed_residual_model("tanh", B, alpha, sw2, NormKind::layer, NormPosition::post, 0, n), &post);
      predict_layers(normed_residual_model("tanh", B, alpha, sw2, NormKind::layer, NormPosition::pre, 0, n), &pre);
      for (Index k = 1; k <= B; ++k) {
        CAPTURE(k);
        const auto i = static_cast<std::size_t>(k - 1);
        CHECK(post[i].grad_stream_rel_log10 ==
              doctest::Approx(0.5 * static_cast<double>(B - k) * std::log10((1 + a2 * chi) / (1 + a2 * V))).epsilon(1e-6));
        const double q = 1 + static_cast<double>(k - 1) * a2 * V;
        CHECK(pre[i].stream_rms == doctest::Approx(std::sqrt(q)).epsilon(1e-6));
        const double want_pre =
            rel_from_factors(k, B, [&](Index j) { return 1 + a2 * chi / (1 + static_cast<double>(j - 1) * a2 * V); });
        CHECK(pre[i].grad_stream_rel_log10 == doctest::Approx(want_pre).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("residual norm theory at finite width: the norm's Jacobian removes 1/n (RMSNorm) or 2/n (LayerNorm) of a "
          "linear branch's gradient, and LayerNorm's variance is (n - 1)/n") {
  // Linear branches, eps 0, n = 16: F = W_2 W_1 u has V = sigma_w2^2 E u^2. Post-LN: the gradient
  // through N(z) keeps (1 - removed) / sigma^2 of it, sigma^2 = E z^2 (RMS) or its (n - 1)/n
  // (LayerNorm, whose output then has E u^2 = 1 exactly), removed = 1/n (RMS: along u) or 2/n
  // (LayerNorm: the mean and u), so with E z^2 = 1 + alpha^2 V every block after the first
  // multiplies by (1 + alpha^2 V) (1 - removed) / sigma^2.
  const double sw2 = 1.5, alpha = 0.8, nn = 16, a2 = alpha * alpha, V = sw2 * sw2;
  const Index B = 4;
  std::vector<BlockTheory> rms, ln;
  predict_layers(normed_residual_model("identity", B, alpha, sw2, NormKind::rms, NormPosition::post, 0, 16), &rms);
  predict_layers(normed_residual_model("identity", B, alpha, sw2, NormKind::layer, NormPosition::post, 0, 16), &ln);
  const double f_rms = (1 + a2 * V) * (1 - 1 / nn) / (1 + a2 * V);
  const double f_ln = (1 + a2 * V) * (1 - 2 / nn) / ((1 + a2 * V) * (nn - 1) / nn);
  for (Index k = 2; k <= B; ++k) {
    CAPTURE(k);
    const auto i = static_cast<std::size_t>(k - 1);
    CHECK(rms[i].grad_stream_rel_log10 == doctest::Approx(0.5 * static_cast<double>(B - k) * std::log10(f_rms)).epsilon(1e-12));
    CHECK(ln[i].grad_stream_rel_log10 == doctest::Approx(0.5 * static_cast<double>(B - k) * std::log10(f_ln)).epsilon(1e-12));
    CHECK(rms[i].stream_rms == doctest::Approx(1).epsilon(1e-12));
    CHECK(ln[i].stream_rms == doctest::Approx(1).epsilon(1e-12));
  }
}

namespace {

struct Measured {
  std::vector<double> rms, grad;  // per block, mean over seeds
  std::vector<double> rms_se, grad_se;
  std::vector<BlockTheory> predicted;
};

// The measured nets: `blocks` blocks of 2 layers at width 1024, batch 32, in f32.
AnalysisConfig normed_residual(const std::string& act, NormKind norm, NormPosition position, double alpha,
                               Index blocks) {
  AnalysisConfig c = test::residual_config(act, 2 * blocks, 2, 1024, alpha == 1 ? "1" : "0.5", 32);
  c.dtype = Dtype::f32;
  c.norm = norm;
  c.norm_position = position;
  c.input_dim = 1024;
  return c;
}

Measured measure(const std::string& act, NormKind norm, NormPosition position, double alpha, int seeds, Index blocks) {
  AnalysisConfig c = normed_residual(act, norm, position, alpha, blocks);
  c.loss = LossKind::random;
  c.threads = 2;
  const auto B = static_cast<std::size_t>(blocks);
  Measured out;
  std::vector<double> rms_sum(B, 0.0), rms_sq(B, 0.0), g_sum(B, 0.0), g_sq(B, 0.0);
  for (int s = 0; s < seeds; ++s) {
    c.seed = static_cast<std::uint64_t>(s);
    const RunResult r = run_one(c, *find_activation(act));
    const TheoryComparison t = compare_with_theory(c, r);
    REQUIRE(r.pass.blocks.size() == B);
    REQUIRE(t.predicted_blocks.size() == B);
    out.predicted = t.predicted_blocks;
    for (std::size_t k = 0; k < B; ++k) {
      rms_sum[k] += r.pass.blocks[k].stream_rms;
      rms_sq[k] += r.pass.blocks[k].stream_rms * r.pass.blocks[k].stream_rms;
      g_sum[k] += t.grad_stream_rel_log10[k];
      g_sq[k] += t.grad_stream_rel_log10[k] * t.grad_stream_rel_log10[k];
    }
  }
  const double S = seeds;
  // The standard error of the mean over seeds: sqrt(sample variance / S).
  auto se = [&](double sum, double sq) { return std::sqrt(std::max(sq - sum * sum / S, 0.0) / (S - 1) / S); };
  for (std::size_t k = 0; k < B; ++k) {
    out.rms.push_back(rms_sum[k] / S);
    out.grad.push_back(g_sum[k] / S);
    out.rms_se.push_back(se(rms_sum[k], rms_sq[k]));
    out.grad_se.push_back(se(g_sum[k], g_sq[k]));
  }
  return out;
}

}  // namespace

TEST_CASE("measured: Pre-LN and Post-LN residual nets, width 1024, relu and tanh, layer and rms, alpha 1 and 0.5: "
          "stream RMS within 2%, stream gradient within 0.02 decades; the swapped positions' predictions miss") {
  // 4 seeds x 6 blocks of two 1024 x 1024 layers (he_normal for relu, xavier_normal for tanh),
  // --loss random (the theory's backward pass). The other position's prediction (the formulas
  // swapped) must miss the same measurement by far more than the tolerance.
  const Index blocks = 6;
  const int seeds = 4;
  for (const std::string act : {"relu", "tanh"}) {
    for (NormKind norm : {NormKind::layer, NormKind::rms}) {
      for (NormPosition position : {NormPosition::pre, NormPosition::post}) {
        for (double alpha : {1.0, 0.5}) {
          CAPTURE(act);
          CAPTURE(static_cast<int>(norm));
          CAPTURE(static_cast<int>(position));
          CAPTURE(alpha);
          const Measured m = measure(act, norm, position, alpha, seeds, blocks);
          const NormPosition other = position == NormPosition::pre ? NormPosition::post : NormPosition::pre;
          std::vector<BlockTheory> swapped;
          predict_layers(mean_field_model(normed_residual(act, norm, other, alpha, blocks), *find_activation(act)),
                         &swapped);
          double worst_rms = 0, worst_g = 0, worst_rms_se = 0, worst_g_se = 0, miss = 0;
          for (std::size_t k = 0; k < m.rms.size(); ++k) {
            CAPTURE(k + 1);
            const BlockTheory& p = m.predicted[k];
            const double d_rms = std::abs(m.rms[k] / p.stream_rms - 1), d_g = std::abs(m.grad[k] - p.grad_stream_rel_log10);
            CHECK(d_rms < 0.02);
            CHECK(d_g < 0.02);
            worst_rms = std::max(worst_rms, d_rms);
            worst_g = std::max(worst_g, d_g);
            // In standard errors over the seeds, where they scatter (a Post-LN stream's RMS after
            // block 1 is 1 for every seed: no scatter to measure by).
            if (m.rms_se[k] > 1e-4) worst_rms_se = std::max(worst_rms_se, d_rms * p.stream_rms / m.rms_se[k]);
            if (m.grad_se[k] > 1e-4) worst_g_se = std::max(worst_g_se, d_g / m.grad_se[k]);
            miss = std::max({miss, std::abs(m.rms[k] / swapped[k].stream_rms - 1) / 0.02,
                             std::abs(m.grad[k] - swapped[k].grad_stream_rel_log10) / 0.02});
          }
          const std::string name = act + (norm == NormKind::layer ? " layer " : " rms ") +
                                   (position == NormPosition::pre ? "pre" : "post");
          MESSAGE(name,
                  " alpha ", alpha, ": worst block rms ", worst_rms * 100, "% (", worst_rms_se, " se), stream gradient ",
                  worst_g, " decades (", worst_g_se, " se); predicted first-block gradient ",
                  m.predicted.front().grad_stream_rel_log10, ", last rms ", m.predicted.back().stream_rms,
                  "; swapped formulas miss by ", miss, "x the tolerance");
          CHECK(miss > 3);
        }
      }
    }
  }
}
