#include "core/summary.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace gf;

namespace {

constexpr const char* kSlope = "slope below 0.1 of the maximum";

// A hand-made pass: gradients decaying by `decades` per layer toward layer 1.
PassResult pass_with(int depth, double decades_per_layer, double saturated = 0, double inactive = 0,
                     double dead = 0, double act_mean = 0) {
  PassResult p;
  p.loss = 2.3;
  for (int l = 1; l <= depth; ++l) {
    LayerStats s;
    s.layer = l;
    s.fan_in = s.width = 100;
    s.grad_weight_log10 = -1 - decades_per_layer * (depth - l);
    s.saturated_frac = saturated;
    s.inactive_frac = inactive;
    s.dead_units_frac = dead;
    s.act_mean = act_mean;
    s.act_std = 0.2;
    s.dw_sign_coherence = 0.5;
    p.layers.push_back(s);
  }
  return p;
}

bool has(const Summary& s, const std::string& v) {
  return std::find(s.verdict.begin(), s.verdict.end(), v) != s.verdict.end();
}

}  // namespace

TEST_CASE("gradient ratio and factor per layer") {
  const Summary s = summarize(pass_with(11, 0.5), {}, "x", kSlope, "f32");
  CHECK(s.grad_first_last_log10 == doctest::Approx(-5.0));
  CHECK(s.grad_factor_per_layer == doctest::Approx(std::pow(10.0, -0.5)));
  CHECK(s.verdict == std::vector<std::string>{"vanishing"});
  CHECK(s.sentences[0] == "x: the first layer's gradient is 10^-5.0 of the last layer's (x0.32 per layer): vanishing");
}

TEST_CASE("thresholds decide, and can be moved") {
  CHECK(summarize(pass_with(11, 0.19), {}, "x", kSlope, "f32").verdict == std::vector<std::string>{"healthy"});
  CHECK(summarize(pass_with(11, 0.21), {}, "x", kSlope, "f32").verdict == std::vector<std::string>{"vanishing"});
  CHECK(summarize(pass_with(11, -0.21), {}, "x", kSlope, "f32").verdict == std::vector<std::string>{"exploding"});
  Thresholds strict;
  strict.vanishing_below = 0.5;
  CHECK(has(summarize(pass_with(11, 0.05), strict, "x", kSlope, "f32"), "vanishing"));
}

TEST_CASE("saturation counts flat tails; dead zones count as dead units instead") {
  const Summary tails = summarize(pass_with(5, 0, 0.5), {}, "tanh", kSlope, "f32");
  CHECK(has(tails, "saturated"));
  const Summary relu = summarize(pass_with(5, 0, 0.5, 0.5, 0.1), {}, "relu", kSlope, "f32");
  CHECK(!has(relu, "saturated"));
  CHECK(has(relu, "dead_units"));
  CHECK(relu.dead_units_frac == doctest::Approx(0.1));
  CHECK(relu.inactive_frac_mean == doctest::Approx(0.5));
}

TEST_CASE("not zero-centred when activations are offset") {
  const Summary s = summarize(pass_with(5, 0, 0, 0, 0, 0.5), {}, "sigmoid", kSlope, "f32");
  CHECK(s.act_offset_mean == doctest::Approx(0.5 / std::sqrt(0.29)));
  CHECK(has(s, "not_zero_centred"));
  CHECK(s.dw_sign_coherence_mean == doctest::Approx(0.5));
}

TEST_CASE("overflow and exact zero gradients get their own sentences") {
  PassResult over = pass_with(5, 0);
  over.overflow_layer = 3;
  const Summary o = summarize(over, {}, "relu", kSlope, "f32");
  CHECK(o.verdict == std::vector<std::string>{"exploding"});
  CHECK(o.sentences[0].find("overflowed the f32 range at layer 3") != std::string::npos);
  CHECK(std::isnan(o.grad_first_last_log10));

  PassResult zero = pass_with(5, 0);
  zero.zero_grad_layer = 4;
  const Summary z = summarize(zero, {}, "relu", kSlope, "f32");
  CHECK(z.verdict.front() == "vanishing");
  CHECK(z.sentences[0].find("layer 4") != std::string::npos);
}

TEST_CASE("a ratio that is undefined is explained, never called healthy") {
  // Layers 3..5 have no weight gradient: their input, layer 2's activations, is exactly 0.
  PassResult p = pass_with(5, 0.1);
  for (int l = 3; l <= 5; ++l) p.layers[l - 1].grad_weight_log10 = kNaN;
  p.layers[1].act_mean = p.layers[1].act_std = 0;
  const Summary s = summarize(p, {}, "tanh", kSlope, "f32");
  CHECK(std::isnan(s.grad_first_last_log10));
  CHECK(s.verdict.front() == "vanishing");
  CHECK(s.sentences.front() ==
        "tanh: the forward signal fell below f32's range: layer 2's activations are exactly 0, so "
        "the weight gradients of the layers 3 to 5 are exactly 0 and layer 1's gradient cannot be "
        "compared with layer 5's; rerun with --dtype f64 to follow the signal further: vanishing");
  for (const std::string& v : s.verdict) CHECK(v != "healthy");
}

TEST_CASE("sign coherence that was not measured is said so, not printed as nan") {
  PassResult one = pass_with(1, 0, 0, 0, 0, 0.5);
  one.layers[0].dw_sign_coherence = 0.8;  // layer 1 sees the data: not counted
  const Summary s = summarize(one, {}, "relu", kSlope, "f32");
  REQUIRE(has(s, "not_zero_centred"));
  CHECK(std::isnan(s.dw_sign_coherence_mean));
  CHECK(s.sentences.back().find("sign coherence is measured from layer 2 on, and there is one layer") !=
        std::string::npos);
  for (const std::string& t : s.sentences) CHECK(t.find("nan") == std::string::npos);
}

TEST_CASE("factors far from 1 keep their digits") {
  CHECK(factor_text(0.24) == "0.24");
  CHECK(factor_text(6.4e-88) == "6.4e-88");
  CHECK(factor_text(2.5e7) == "2.5e+07");
  const Summary s = summarize(pass_with(4, 87), {}, "tanh", kSlope, "f32");
  CHECK(s.sentences.front().find("(x1e-87 per layer)") != std::string::npos);
}

TEST_CASE("underflow and rounding notes, from the layer figures") {
  PassResult p = pass_with(4, 0.1);
  p.layers[2].slope_underflow_frac = 0.87;
  p.layers[2].slope_scale_log10 = -40;
  const Summary s = summarize(p, {}, "tanh", kSlope, "f32");
  REQUIRE(!s.notes.empty());
  CHECK(s.notes[0] ==
        "tanh: f32 cannot represent the slope of 87.0% of layer 3's unit-samples (below 1.2e-38, "
        "f32's smallest normal number); gradflow computed those slopes again with their scale "
        "taken out as a log, so the gradients shown are exact");

  PassResult inexact = pass_with(4, 0.1);
  inexact.layers[2].slope_underflow_frac = 0.87;
  inexact.inexact_layer = 3;
  for (int l = 1; l <= 3; ++l) inexact.layers[l - 1].grad_weight_log10 = kNaN;
  const Summary i = summarize(inexact, {}, "leaky_relu", kSlope, "f32");
  CHECK(i.verdict.front() == "inexact");
  CHECK(i.sentences.front() ==
        "leaky_relu: f32 cannot represent leaky_relu's slope on 87.0% of layer 3's unit-samples "
        "(below 1.2e-38, f32's smallest normal number), and they carry enough of the gradient "
        "that those of layers 3 to 1 would not be exact, so none is reported; rerun with --dtype "
        "f64: inexact");
  CHECK(i.notes.empty());

  // Chaos: the gradient grows 10^1.5 per layer toward layer 1 while |h| stays put, so f32's
  // rounding (6e-8) reaches the top 10^6 times larger; f64's (1.1e-16) stays below 1e-3.
  PassResult chaos = pass_with(5, 0);
  for (int l = 1; l <= 5; ++l) {
    chaos.layers[l - 1].grad_preact_log10 = 1.5 * (5 - l);
    chaos.layers[l - 1].preact_mean = 0;
    chaos.layers[l - 1].preact_std = 2;
  }
  const Summary c32 = summarize(chaos, {}, "tanh", kSlope, "f32");
  REQUIRE(c32.notes.size() == 1);
  CHECK(c32.notes[0].find("layer 1's pre-activations reaches layer 5 multiplied by about 10^6.0") != std::string::npos);
  CHECK(c32.notes[0].find("--dtype f64 is exact here") != std::string::npos);
  CHECK(summarize(chaos, {}, "tanh", kSlope, "f64").notes.empty());
  // A linear network whose signal grows as fast as its gradient amplifies nothing.
  for (int l = 1; l <= 5; ++l) chaos.layers[l - 1].preact_std = std::pow(10.0, 1.5 * l);
  CHECK(summarize(chaos, {}, "identity", kSlope, "f32").notes.empty());
}

TEST_CASE("the forward signal: RMS of the pre-activations, layer L against layer 1") {
  PassResult p = pass_with(11, 0);
  for (LayerStats& l : p.layers) {  // RMS 2 x 0.7^(l-1): mean and std both shrink
    const double rms = 2 * std::pow(0.7, l.layer - 1);
    l.preact_mean = 0.6 * rms;
    l.preact_std = 0.8 * rms;
  }
  const Summary s = summarize(p, {}, "relu", kSlope, "f32");
  CHECK(s.signal_first_last_log10 == doctest::Approx(10 * std::log10(0.7)).epsilon(1e-12));
  CHECK(s.signal_factor_per_layer == doctest::Approx(0.7).epsilon(1e-12));
  CHECK(has(s, "signal_vanishing"));  // 0.7^10 = 0.028, below a tenth
  CHECK(s.sentences[0] == "relu: the pre-activations' RMS goes from 2 in layer 1 to 0.0565 in layer 11 "
                          "(10^-1.5, x0.70 per layer): the forward signal fades on its way to the head: signal vanishing");
  Thresholds loose;
  loose.signal_vanishing_below = 0.01;
  CHECK_FALSE(has(summarize(p, loose, "relu", kSlope, "f32"), "signal_vanishing"));
  for (LayerStats& l : p.layers) l.preact_std = 0.8 * 2 * std::pow(1.3, l.layer - 1), l.preact_mean = 0;
  CHECK(has(summarize(p, {}, "relu", kSlope, "f32"), "signal_exploding"));
}

TEST_CASE("the absolute gradient scale: the largest layer's |dL/dW|") {
  PassResult p = pass_with(5, 0);
  for (LayerStats& l : p.layers) l.grad_weight_log10 = -3.5 - 0.1 * l.layer;
  const Summary s = summarize(p, {}, "relu", kSlope, "f32");
  CHECK(s.grad_weight_log10_max == doctest::Approx(-3.6));
  CHECK(has(s, "grad_small"));
  CHECK(s.sentences.back().find("layer 1's, is 10^-3.6") != std::string::npos);
  for (LayerStats& l : p.layers) l.grad_weight_log10 = 3.2 + 0.1 * l.layer;
  const Summary big = summarize(p, {}, "relu", kSlope, "f32");
  CHECK(big.grad_weight_log10_max == doctest::Approx(3.7));
  CHECK(has(big, "grad_large"));
  CHECK_FALSE(has(summarize(pass_with(5, 0), {}, "relu", kSlope, "f32"), "grad_small"));
}
