// Mean field through LayerNorm and RMSNorm before each activation: closed forms, an independent
// integral, and measurement.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "closed_forms.h"
#include "core/analysis.h"
#include "theory/batchnorm_theory.h"
#include "theory/mean_field.h"
#include "theory/theory_compare.h"

using namespace gf;
using test::gauss_mean;

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

// BatchNorm in its large-batch limit (Yang et al. 2019; batchnorm_theory.h): chi = E[phi'(u)^2] /
// Var[phi(u)], u ~ N(0, 1), whatever sigma_w2 and the biases. relu's is their pi / (pi - 1);
// tanh's and sigmoid's against the trapezoid integral; identity's is 1, and no activation's is
// below it (the Gaussian Poincare inequality Var[phi] <= E[phi'^2]).
TEST_CASE("BatchNorm theory: chi = E[phi'^2] / Var[phi] whatever the init, pi/(pi-1) for relu") {
  CHECK(batchnorm_grad2_growth(phi_of("relu")) == doctest::Approx(std::numbers::pi / (std::numbers::pi - 1)).epsilon(1e-14));
  CHECK(batchnorm_grad2_growth(phi_of("identity")) == doctest::Approx(1).epsilon(1e-14));
  const double tanh2 = gauss_mean([](double z) { return std::tanh(z) * std::tanh(z); });
  const double sech4 = gauss_mean([](double z) { return std::pow(1 - std::tanh(z) * std::tanh(z), 2); });
  CHECK(batchnorm_grad2_growth(phi_of("tanh")) == doctest::Approx(sech4 / tanh2).epsilon(1e-8));
  auto sigmoid = [](double z) { return 1 / (1 + std::exp(-z)); };
  const double s1 = gauss_mean(sigmoid), s2 = gauss_mean([&](double z) { return sigmoid(z) * sigmoid(z); });
  const double ds2 = gauss_mean([&](double z) { return std::pow(sigmoid(z) * (1 - sigmoid(z)), 2); });
  CHECK(batchnorm_grad2_growth(phi_of("sigmoid")) == doctest::Approx(ds2 / (s2 - s1 * s1)).epsilon(1e-8));
  for (const Activation& a : activations()) {
    CAPTURE(a.name);
    CHECK(batchnorm_grad2_growth({&a, 0.01}) >= 1 - 1e-12);
  }
  // The mean field's per-layer factor through BatchNorm (eps 0) is the same, from layer 2 on (layer
  // 1 reads the input, not phi), for any sigma_w2 and random biases.
  for (const char* act : {"relu", "tanh", "sigmoid", "gelu"}) {
    for (double sw2 : {0.5, 2.0}) {
      CAPTURE(act);
      CAPTURE(sw2);
      MeanFieldModel m = normed_model(act, NormKind::batch, 0, 256, sw2);
      m.sigma_b2 = 0.3;
      const auto t = predict_layers(m);
      for (std::size_t l = 1; l + 1 < t.size(); ++l) {
        CHECK(t[l].chi == doctest::Approx(batchnorm_grad2_growth(m.phi)).epsilon(1e-10));
        CHECK(t[l].q == doctest::Approx(1).epsilon(1e-14));
        CHECK(t[l].dead_units_frac == 0);
      }
    }
  }
}

// The measured rate: the slope of 2 log10 ||d W_l|| over layers 6..26 of 30 (the first and last
// layers are transients), least squares, averaged over two seeds, width 512, batch 128. The issue
// asks for 5%; at B = 128 every activation measured runs 0.2% (relu) to 3.1% (silu, softplus) above
// the limit (the samples' coupling, O(1/B)), so the test holds relu, tanh, gelu and sigmoid to 2%,
// and the plain stack without the norm shows that it tells explosion from none.
TEST_CASE("measured: BatchNorm's gradient explosion, width 512, batch 128: growth within 2% of E[phi'^2] / Var[phi]") {
  AnalysisConfig c;
  c.depth = 30;
  c.width = {512};
  c.batch = 128;
  c.norm = NormKind::batch;
  c.loss = LossKind::random;
  c.threads = 2;
  auto growth = [&](const std::string& act) {
    c.activations = {act};
    double total = 0;
    for (std::uint64_t seed : {0, 1}) {
      c.seed = seed;
      const RunResult r = run_one(c, *find_activation(act));
      REQUIRE(r.pass.overflow_layer == 0);
      double sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0;
      for (Index l = 6; l <= 26; ++l) {
        const double y = 2 * r.pass.layers[static_cast<std::size_t>(l - 1)].grad_weight_log10;
        sx += static_cast<double>(l), sy += y, sxx += static_cast<double>(l * l), sxy += static_cast<double>(l) * y, ++k;
      }
      total += std::pow(10.0, -(k * sxy - sx * sy) / (k * sxx - sx * sx));  // growth towards the input
    }
    return total / 2;
  };
  for (const std::string act : {"relu", "tanh", "gelu", "sigmoid"}) {
    const double predicted = batchnorm_grad2_growth(phi_of(act.c_str()));
    const double measured = growth(act);
    MESSAGE("BatchNorm ", act, ": squared gradient norm grows by ", measured, " per layer towards the input; predicted ",
            predicted, " (ratio ", measured / predicted, ")");
    CHECK(std::abs(measured / predicted - 1) < 0.02);
  }
  // Without the norm the same He-initialised relu stack keeps the gradient flat.
  c.norm = NormKind::none;
  const double plain = growth("relu");
  MESSAGE("relu without the norm: ", plain, " per layer");
  CHECK(std::abs(plain - 1) < 0.1);
}
