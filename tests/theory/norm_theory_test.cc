// Mean field through LayerNorm and RMSNorm before each activation: closed forms, an independent
// integral, and measurement.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"
#include "theory/mean_field.h"
#include "theory/theory_compare.h"

using namespace gf;

namespace {

MeanFieldModel normed_model(const char* act, NormKind norm, double eps, Index n, double sigma_w2) {
  MeanFieldModel m;
  m.phi = phi_of(act);
  const Index L = 8;
  m.ops = plain_stack(std::vector<Index>(L, n), *m.phi.act, 0.01, 10, norm, eps);
  m.ops.pop_back();  // the head
  m.sigma_w2.assign(L, sigma_w2);
  m.widths.assign(L + 1, n);
  m.batch = 64;
  return m;
}

// E[f(z)], z ~ N(0, 1), by the trapezoid rule on [-12, 12]: independent of the theory's quadrature.
template <class F>
double gauss_mean(F f) {
  const int steps = 200000;
  const double a = -12, h = 24.0 / steps;
  double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const double z = a + i * h;
    sum += (i == 0 || i == steps ? 0.5 : 1.0) * f(z) * std::exp(-0.5 * z * z);
  }
  return sum * h / std::sqrt(2 * M_PI);
}

}  // namespace

TEST_CASE("norm theory, relu without eps: the gradient factor per layer is (n-2)/(n-1) (LayerNorm), (n-1)/n (RMSNorm)") {
  // Exactly: u has unit variance, E[relu(u)^2] = E[u^2 1{u>0}] = 1/2, so sigma^2 = sigma_w2 / 2
  // (LayerNorm: times (n-1)/n), and the norm's Jacobian removes 2 of n directions (LayerNorm: the
  // mean and u) or 1 (RMSNorm). Whatever sigma_w2.
  for (double sw2 : {0.5, 2.0, 7.0}) {
    for (Index n : {16, 64, 1000}) {
      CAPTURE(sw2);
      CAPTURE(n);
      const double nn = static_cast<double>(n);
      const auto ln = predict_layers(normed_model("relu", NormKind::layer, 0, n, sw2));
      const auto rms = predict_layers(normed_model("relu", NormKind::rms, 0, n, sw2));
      for (std::size_t l = 0; l + 1 < ln.size(); ++l) {
        CHECK(ln[l].q == doctest::Approx(1).epsilon(1e-14));
        CHECK(ln[l].chi == doctest::Approx((nn - 2) / (nn - 1)).epsilon(1e-12));
        CHECK(rms[l].chi == doctest::Approx((nn - 1) / nn).epsilon(1e-12));
      }
      CHECK(ln[0].grad_preact_rel_log10 == doctest::Approx(0.5 * 7 * std::log10((nn - 2) / (nn - 1))).epsilon(1e-12));
    }
  }
}

TEST_CASE("norm theory, tanh: q* = v / (v + eps) at every layer, chi_1 -> E[phi'^2] / E[phi^2] as width grows") {
  const double phi2 = gauss_mean([](double z) { return std::tanh(z) * std::tanh(z); });
  const double dphi2 = gauss_mean([](double z) {
    const double s = 1 - std::tanh(z) * std::tanh(z);
    return s * s;
  });
  MESSAGE("tanh after LayerNorm: E[phi'^2] / E[phi^2] = ", dphi2 / phi2);
  for (double sw2 : {0.3, 1.0, 4.0}) {
    const auto wide = predict_layers(normed_model("tanh", NormKind::layer, 0, 1'000'000'000, sw2));
    CHECK(wide[3].chi == doctest::Approx(dphi2 / phi2).epsilon(1e-7));
    CHECK(wide[3].norm_grad_ratio_log10 == doctest::Approx(-0.5 * std::log10(sw2 * phi2)).epsilon(1e-7));
  }
  // eps: u = (h - mean) / sqrt(var + eps), var = q (n - 1) / n.
  const double eps = 0.5;
  const auto t = predict_layers(normed_model("tanh", NormKind::layer, eps, 64, 1.0));
  const double q1 = 1.0 * 63.0 / 64.0;  // layer 1: E x^2 = 1
  CHECK(t[0].q == doctest::Approx(q1 / (q1 + eps)).epsilon(1e-14));
}

TEST_CASE("measured: tanh and gelu after LayerNorm and RMSNorm, width 1024: the gradient profile within 0.05 decades") {
  // 4 seeds x 16 layers; sigma_w2 1.5, sigma_b2 0.05 (random biases), --loss random. Seed to seed
  // the first layer's gradient scatters by about 0.05 decades (gelu), 0.015 (tanh).
  for (const std::string act : {"tanh", "gelu"}) {
    for (NormKind norm : {NormKind::layer, NormKind::rms}) {
      CAPTURE(act);
      CAPTURE(static_cast<int>(norm));
      AnalysisConfig c;
      c.activations = {act};
      c.depth = 16;
      c.width = {1024};
      c.batch = 32;
      c.loss = LossKind::random;
      c.sigma_w2 = 1.5;
      c.sigma_b2 = 0.05;
      c.norm = norm;
      c.threads = 2;
      const int seeds = 4;
      std::vector<double> var(16, 0.0), grad(16, 0.0), ratio(16, 0.0);
      TheoryComparison t;
      for (int s = 0; s < seeds; ++s) {
        c.seed = static_cast<std::uint64_t>(s);
        const RunResult r = run_one(c, *find_activation(act));
        t = compare_with_theory(c, r);
        for (std::size_t l = 0; l < 16; ++l) {
          var[l] += t.preact_var[l] / seeds;
          grad[l] += t.grad_preact_rel_log10[l] / seeds;
          ratio[l] += r.pass.layers[l].norm_grad_ratio_log10 / seeds;
        }
      }
      double worst_g = 0, worst_ratio = 0;
      for (std::size_t l = 0; l < 16; ++l) {
        CAPTURE(l + 1);
        const LayerTheory& p = t.predicted[l];
        CHECK(std::abs(var[l] / p.q - 1) < 0.002);
        CHECK(std::abs(grad[l] - p.grad_preact_rel_log10) < 0.05);
        CHECK(std::abs(ratio[l] - p.norm_grad_ratio_log10) < 0.015);
        worst_g = std::max(worst_g, std::abs(grad[l] - p.grad_preact_rel_log10));
        worst_ratio = std::max(worst_ratio, std::abs(ratio[l] - p.norm_grad_ratio_log10));
      }
      MESSAGE(act, " norm ", static_cast<int>(norm), ": worst layer: gradient ", worst_g, " decades, norm ratio ",
              worst_ratio, " decades; predicted first layer ", t.predicted.front().grad_preact_rel_log10);
    }
  }
}
