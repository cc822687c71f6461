// --model FILE --weights-from init (config/model_options): a model whose layers have different
// activations draws each layer with its own activation's auto scheme under --init auto and fixup
// (core/params' layer_init), not the first layer's. Measured from the drawn weights of the
// fixtures mlp.onnx (tanh then relu) and resnet_scaled.onnx (tanh, then blocks of relu and a linear
// layer) against He et al. 2015's 2/fan_in and Glorot & Bengio 2010's 2/(fan_in+fan_out), with
// Fixup's factor (Zhang et al. 2019, Sec. 3: L^(-1/(2m-2)) on branch layers, 0 on their last), with
// a tolerance the old draw fails; the mean-field model takes the same per-layer variance.
#include "config/model_options.h"

#include <doctest/doctest.h>

#include <cmath>

#include "core/params.h"
#include "init_variance.h"
#include "theory/theory_compare.h"

using namespace gf;
using gf::test::measured_variance;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

AnalysisConfig model_config(const std::string& file, const std::string& init) {
  AnalysisConfig c;
  c.init = init;
  ModelOptions m;
  m.model = kFixtures + file;
  m.weights_from = "init";
  apply_model_options(m, c);
  c.dtype = Dtype::f64;
  c.threads = 1;
  validate(c);
  return c;
}

struct Expected {
  Index l;
  double variance;  // the layer's own scheme's (times Fixup's factor^2)
  double old;       // every layer with the first activation's (tanh: xavier_normal) scheme
};

void check_layers(const AnalysisConfig& c, const std::vector<Expected>& layers, int seeds) {
  for (const Expected& k : layers) {
    CAPTURE(k.l);
    const double v = measured_variance(c, k.l, seeds);
    if (k.variance == 0) {
      CHECK(v == 0);
      continue;
    }
    const NetworkSpec spec = network_spec(c, *find_activation(c.activations[0]));
    const double n = static_cast<double>(spec.width(k.l) * spec.width(k.l - 1)) * seeds;
    const double tol = 5 * std::sqrt(2 / n);  // 5 standard errors of a Gaussian variance's estimate
    CHECK(std::abs(v / k.variance - 1) < tol);
    if (k.old != k.variance) CHECK(std::abs(k.old / k.variance - 1) > 3 * tol);  // the old draw fails by far
  }
}

}  // namespace

TEST_CASE("--model mlp.onnx --weights-from init --init auto: tanh's layer xavier_normal, relu's he_normal") {
  const AnalysisConfig c = model_config("mlp.onnx", "auto");
  REQUIRE(c.depth == 2);  // 6 -> 16 tanh -> 16 relu -> 3
  check_layers(c, {{1, 2.0 / (6 + 16), 2.0 / (6 + 16)}, {2, 2.0 / 16, 2.0 / (16 + 16)}}, 40);
  const NetworkSpec spec = network_spec(c, *find_activation("tanh"));
  CHECK(spec.weight_init.label == "auto (per layer: xavier_normal for tanh layers, he_normal for relu layers)");
  // The theory's sigma_w2 per layer (fan_in Var(W_l)) is the drawn one.
  const MeanFieldModel m = mean_field_model(c, *find_activation("tanh"));
  REQUIRE(m.sigma_w2.size() == 2);
  CHECK(m.sigma_w2[0] == doctest::Approx(6 * 2.0 / 22).epsilon(1e-14));
  CHECK(m.sigma_w2[1] == doctest::Approx(2).epsilon(1e-14));
  // --gain G scales each layer's own scheme at gain 1 (torch.nn.init): he_normal's std G/sqrt(fan_in).
  AnalysisConfig gained = c;
  gained.gain = 1.5;
  const NetworkSpec g = network_spec(gained, *find_activation("tanh"));
  CHECK(layer_init(g, 2).variance(16, 16) == doctest::Approx(1.5 * 1.5 / 16));
  CHECK(layer_init(g, 1).variance(6, 16) == doctest::Approx(1.5 * 1.5 * 2 / 22));
  CHECK(g.weight_init.label.ends_with(" gain=1.5"));
}

TEST_CASE("--model tanh_stack.onnx: one activation draws as before, labelled by its scheme") {
  const AnalysisConfig c = model_config("tanh_stack.onnx", "auto");
  const NetworkSpec spec = network_spec(c, *find_activation("tanh"));
  CHECK(spec.weight_init.label == "xavier_normal");
  for (Index l = 1; l <= spec.depth(); ++l) CHECK(layer_init(spec, l).scheme->name == "xavier_normal");
}

TEST_CASE("--model resnet_scaled.onnx --init fixup: each layer's own scheme under Fixup's rule") {
  // 6 -> 8 tanh, then 2 blocks s + c fc2(relu(fc1(s))): blocks L = 2 of m = 2 layers, so the
  // branches' first layers are scaled by 2^(-1/2) (variance x 1/2) and their last layers are 0.
  const AnalysisConfig c = model_config("resnet_scaled.onnx", "fixup");
  REQUIRE(c.depth == 5);
  const double half = 0.5;
  check_layers(c,
               {{1, 2.0 / (6 + 8), 2.0 / (6 + 8)},
                {2, half * 2.0 / 8, half * 2.0 / 16},
                {3, 0, 0},
                {4, half * 2.0 / 8, half * 2.0 / 16},
                {5, 0, 0}},
               200);
  const NetworkSpec spec = network_spec(c, *find_activation("tanh"));
  CHECK(spec.weight_init.label ==
        "fixup (per layer: xavier_normal for tanh layers, he_normal for relu layers; a linear layer as the nearest "
        "activation before it, else after)");
  const MeanFieldModel m = mean_field_model(c, *find_activation("tanh"));
  REQUIRE(m.sigma_w2.size() == 5);
  CHECK(m.sigma_w2[1] == doctest::Approx(8 * half * 2.0 / 8).epsilon(1e-14));
  CHECK(m.sigma_w2[2] == 0);
}
