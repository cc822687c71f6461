#include "core/stats.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/analysis.h"
#include "core/layer.h"
#include "core/rng.h"

using namespace gf;

namespace {

AnalysisConfig small(const char* activation) {
  AnalysisConfig c;
  c.activations = {activation};
  c.depth = 6;
  c.width = {96};
  c.batch = 32;
  c.threads = 2;
  return c;
}

const std::vector<LayerStats>& layers_of(const RunResult& r) { return r.pass.layers; }

}  // namespace

TEST_CASE("merged moments equal the moments of the whole") {
  std::vector<double> x(1000);
  fill_normal<double>({5, Stream::user, 0}, 0, x.data(), x.size(), 3.0);
  for (double& v : x) v += 1e6;  // a large mean: the pairwise merge must not cancel
  Moments whole = moments_of(x.data(), 1000), merged;
  for (int i = 0; i < 1000; i += 64) merged.merge(moments_of(x.data() + i, std::min(64, 1000 - i)));
  CHECK(merged.n == 1000);
  CHECK(merged.mean == doctest::Approx(whole.mean).epsilon(1e-15));
  CHECK(merged.std() == doctest::Approx(whole.std()).epsilon(1e-9));
  CHECK(whole.std() == doctest::Approx(3.0).epsilon(0.1));
}

TEST_CASE("a forward block's statistics match a direct count") {
  const Activation& act = *find_activation("tanh");
  const Index B = 17, n_in = 9, cols = 11;
  Mat<double> a_prev(B, n_in), h(B, cols), a(B, cols);
  RowMat<double> W(cols, n_in);
  Vec<double> b(cols);
  fill_normal<double>({1, Stream::user, 1}, 0, a_prev.data(), a_prev.size());
  fill_normal<double>({1, Stream::user, 2}, 0, W.data(), W.size(), 1.2);
  fill_normal<double>({1, Stream::user, 3}, 0, b.data(), b.size());
  const Mat<double> h_ref = (a_prev * W.transpose()).rowwise() + b.transpose();
  const ForwardPartial p = layer_forward_block<double>(act, 0, saturation_test(act, 0, 0.1, std::nullopt), a_prev, W, b, h, a);
  CHECK(p.preact.mean == doctest::Approx(h_ref.mean()));
  CHECK(p.act.mean == doctest::Approx(h_ref.array().tanh().mean()));
  Index sat = 0, sat_units = 0;
  for (Index j = 0; j < cols; ++j) {
    Index s = 0;
    for (Index i = 0; i < B; ++i) s += 1 - std::pow(std::tanh(h_ref(i, j)), 2) < 0.1;
    sat += s;
    sat_units += s == B;
  }
  CHECK(p.saturated == sat);
  CHECK(p.saturated_units == sat_units);
  CHECK(p.inactive == 0);
  CHECK(p.weight_sumsq == doctest::Approx(W.squaredNorm()));
}

TEST_CASE("relu with bias -10: every unit is dead") {
  AnalysisConfig c = small("relu");
  c.bias_init = -10;
  const RunResult r = run_one(c, *find_activation("relu"));
  for (const LayerStats& l : layers_of(r)) {
    CHECK(l.dead_units_frac == 1.0);
    CHECK(l.inactive_frac == 1.0);
  }
  CHECK(r.pass.zero_grad_layer == c.depth);
  CHECK(r.summary.dead_units_frac == 1.0);
  CHECK(std::find(r.summary.verdict.begin(), r.summary.verdict.end(), "dead_units") != r.summary.verdict.end());
}

TEST_CASE("identity never saturates and has no dead zone") {
  const RunResult r = run_one(small("identity"), *find_activation("identity"));
  for (const LayerStats& l : layers_of(r)) {
    CHECK(l.saturated_frac == 0.0);
    CHECK(l.inactive_frac == 0.0);
    CHECK(l.dead_units_frac == 0.0);
  }
}

TEST_CASE("batch 1 on positive inputs: sigmoid rows of dW share one sign, tanh rows do not") {
  AnalysisConfig c = small("sigmoid");
  c.batch = 1;
  c.input = InputKind::positive;
  c.depth = 8;
  const RunResult sig = run_one(c, *find_activation("sigmoid"));
  for (const LayerStats& l : layers_of(sig)) CHECK(l.dw_sign_coherence == 1.0);  // layer 1 too: x > 0
  CHECK(sig.summary.dw_sign_coherence_mean == 1.0);

  const RunResult tanh = run_one(c, *find_activation("tanh"));
  // For random signs, E|sum of 96 signs| / 96 = sqrt(2 / (pi 96)) = 0.08.
  CHECK(tanh.summary.dw_sign_coherence_mean < 0.25);
}

TEST_CASE("sigmoid is flagged not zero-centred, tanh is not") {
  const RunResult sig = run_one(small("sigmoid"), *find_activation("sigmoid"));
  const RunResult tanh = run_one(small("tanh"), *find_activation("tanh"));
  CHECK(sig.summary.act_offset_mean > 0.9);
  CHECK(tanh.summary.act_offset_mean < 0.1);
  for (const LayerStats& l : layers_of(sig)) CHECK(l.act_mean == doctest::Approx(0.5).epsilon(0.1));
}

TEST_CASE("large tanh weights saturate; the verdict says so") {
  AnalysisConfig c = small("tanh");
  c.sigma_w2 = 16;
  const RunResult r = run_one(c, *find_activation("tanh"));
  CHECK(r.summary.saturated_frac_mean > 0.5);
  CHECK(r.summary.verdict.front() != "healthy");
  CHECK(std::find(r.summary.verdict.begin(), r.summary.verdict.end(), "saturated") != r.summary.verdict.end());
}

TEST_CASE("an overflowing forward pass is reported at its first layer, never as nan") {
  AnalysisConfig c = small("relu");
  c.sigma_w2 = 1e6;  // x 707 per layer in scale: f32 overflows after ~13 layers
  c.depth = 30;
  const RunResult r = run_one(c, *find_activation("relu"));
  CHECK(r.pass.overflow_layer > 5);
  CHECK(r.pass.overflow_layer < 20);
  CHECK(r.summary.verdict == std::vector<std::string>{"exploding"});
  CHECK(r.summary.sentences.front().find("overflowed") != std::string::npos);
  c.dtype = Dtype::f64;  // f64 takes ~100 layers to overflow
  const RunResult r64 = run_one(c, *find_activation("relu"));
  CHECK(r64.pass.overflow_layer == 0);
}

TEST_CASE("a layer with no gradient stops it there; the layers above keep their numbers") {
  AnalysisConfig c = small("relu");
  c.width = {32, 32, 1, 32, 32};
  c.depth = 5;
  c.batch = 1;
  c.sigma_b2 = 0.5;  // biases keep layers 4 and 5 alive when layer 3 is dead
  bool found = false;
  for (std::uint64_t seed = 0; seed < 40 && !found; ++seed) {  // the width-1 layer is dead half the time
    c.seed = seed;
    const RunResult r = run_one(c, *find_activation("relu"));
    if (r.pass.zero_grad_layer != 3) continue;
    found = true;
    CHECK(std::isfinite(r.pass.layers[4].grad_weight_rel_log10));
    CHECK(std::isfinite(r.pass.layers[3].grad_preact_log10));
    CHECK(std::isnan(r.pass.layers[3].grad_weight_log10));  // its input, layer 3's output, is all 0
    CHECK(std::isnan(r.pass.layers[3].dw_sign_coherence));
    for (int l = 1; l <= 3; ++l) CHECK(std::isnan(r.pass.layers[l - 1].grad_weight_log10));
    CHECK(r.summary.verdict.front() == "vanishing");
  }
  CHECK(found);
}

TEST_CASE("--saturated-when counts outputs past the value, on tanh and sigmoid, as a direct count does") {
  const Index B = 33, n_in = 9, cols = 13;
  Mat<double> a_prev(B, n_in), h(B, cols), a(B, cols);
  RowMat<double> W(cols, n_in);
  Vec<double> b = Vec<double>::Zero(cols);
  fill_normal<double>({2, Stream::user, 1}, 0, a_prev.data(), a_prev.size());
  fill_normal<double>({2, Stream::user, 2}, 0, W.data(), W.size(), 1.0);  // |h| up to ~8: both sides
  const Mat<double> h_ref = a_prev * W.transpose();
  for (const char* name : {"tanh", "sigmoid", "softsign"}) {
    CAPTURE(name);
    const Activation& act = *find_activation(name);
    const SaturationTest t = saturation_test(act, 0, 0.1, 0.97);
    REQUIRE(t.by_value);
    const ForwardPartial p = layer_forward_block<double>(act, 0, t, a_prev, W, b, h, a);
    Index sat = 0, units = 0;
    for (Index j = 0; j < cols; ++j) {
      Index s = 0;
      for (Index i = 0; i < B; ++i) {
        const double x = h_ref(i, j);
        const double y = name[0] == 't' ? std::tanh(x) : name[1] == 'i' ? 1 / (1 + std::exp(-x)) : x / (1 + std::abs(x));
        // |tanh| > 0.97; sigmoid within 0.015 of 0 or 1 (the middle 97% of (0,1)); |softsign| > 0.97
        s += name[1] == 'i' ? (y > 0.985 || y < 0.015) : std::abs(y) > 0.97;
      }
      sat += s;
      units += s == B;
    }
    if (name[1] != 'o') CHECK(sat > 0);  // softsign reaches 0.97 only past |h| = 32
    CHECK(p.saturated == sat);
    CHECK(p.saturated_units == units);
  }
  // Unbounded activations keep the slope test; the sentence says which test was used.
  CHECK_FALSE(saturation_test(*find_activation("relu"), 0, 0.1, 0.97).by_value);
  CHECK(saturation_text(saturation_test(*find_activation("tanh"), 0, 0.1, 0.97), *find_activation("tanh"), 0.1) ==
        "|tanh| above 0.97");
  CHECK(saturation_text(saturation_test(*find_activation("sigmoid"), 0, 0.1, 0.97), *find_activation("sigmoid"), 0.1) ==
        "sigmoid below 0.015 or above 0.985");
}

TEST_CASE("--saturated-when 0.97 on tanh is --sat-eps 1 - 0.97^2 (Karpathy's |tanh| > 0.97)") {
  AnalysisConfig c = small("tanh");
  c.sigma_w2 = 25.0 / 9.0;
  c.dtype = Dtype::f64;
  c.saturated_when = 0.97;
  const RunResult by_value = run_one(c, *find_activation("tanh"));
  c.saturated_when.reset();
  c.sat_eps = 1 - 0.97 * 0.97;
  const RunResult by_slope = run_one(c, *find_activation("tanh"));
  for (std::size_t l = 0; l < by_value.pass.layers.size(); ++l) {
    const double pairs = static_cast<double>(c.batch * 96);
    // the same unit-samples, but for one that sits within rounding of the threshold
    CHECK(std::abs(by_value.pass.layers[l].saturated_frac - by_slope.pass.layers[l].saturated_frac) <= 1.0 / pairs);
  }
  CHECK(by_value.pass.layers[2].saturated_frac > 0.05);
}
