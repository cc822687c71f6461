// The per-layer init (core/params: layer_init): under --init auto and fixup each hidden layer
// draws with its own activation's auto scheme (activation.h's table), a linear layer with that of
// the nearest activation before it. Measured here from the drawn weights of a mixed relu/tanh net
// against each scheme's variance (He et al. 2015: 2/fan_in; Glorot & Bengio 2010:
// 2/(fan_in+fan_out)), with a tolerance the old draw (every layer with the first activation's
// scheme) fails; the label says what was drawn, and single-activation nets draw as before.
#include "core/params.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "init_variance.h"
#include "residual_config.h"
#include "core/analysis.h"
#include "theory/theory_compare.h"

using namespace gf;
using namespace gf::test;

namespace {

// An --arch file's network as load_arch leaves it: its hidden layers as `ops` (with the head
// dropped: network_spec adds it), one entry per dense layer, --activation relu (the first
// layer's), one thread.
AnalysisConfig arch_config(const std::string& file, std::vector<LayerOp> ops, std::vector<std::string> entries,
                           std::vector<Index> width, Index input_dim, Index classes) {
  AnalysisConfig c;
  c.arch = file;
  ops.pop_back();  // the head
  c.arch_ops = std::move(ops);
  c.depth = static_cast<Index>(entries.size());
  c.arch_entries = std::move(entries);
  c.width = std::move(width);
  c.input_dim = input_dim;
  c.classes = classes;
  c.activations = {"relu"};
  c.threads = 1;
  return c;
}

// relu 64 -> 256, tanh -> 256, relu -> 128: an --arch file's plain stack, drawn by --init `init`.
AnalysisConfig mixed_config(const std::string& init) {
  std::vector<LayerOp> ops = plain_stack({256, 256, 128}, *find_activation("relu"), 0.01, 1);
  ops[1].activation = find_activation("tanh");
  AnalysisConfig c =
      arch_config("mixed.json", std::move(ops), {"layers[0]", "layers[1]", "layers[2]"}, {256, 256, 128}, 64, 4);
  c.batch = 256;
  c.init = init;
  c.dtype = Dtype::f64;
  return c;
}

double he(double fan_in, double) { return 2 / fan_in; }
double xavier(double fan_in, double fan_out) { return 2 / (fan_in + fan_out); }

}  // namespace

TEST_CASE("--init auto on a mixed relu/tanh stack: each layer's variance is its own activation's scheme's") {
  const AnalysisConfig c = mixed_config("auto");
  validate(c);  // no longer refused: one --init auto draws each layer by its own activation
  struct Layer {
    Index l;
    double fan_in, fan_out;
    double (*own)(double, double);  // the layer's activation's auto scheme
  };
  // The first activation's scheme (relu: he) for every layer was the old draw.
  for (const Layer& k : {Layer{1, 64, 256, he}, Layer{2, 256, 256, xavier}, Layer{3, 256, 128, he}}) {
    CAPTURE(k.l);
    const double expected = k.own(k.fan_in, k.fan_out), old = he(k.fan_in, k.fan_out);
    const int seeds = 4;
    const double n = k.fan_in * k.fan_out * seeds;
    const double tol = 5 * std::sqrt(2 / n);  // 5 standard errors of a Gaussian variance's estimate
    const double v = measured_variance(c, k.l, seeds);
    CHECK(std::abs(v / expected - 1) < tol);
    if (k.own != he) CHECK(std::abs(old / expected - 1) > 10 * tol);  // the old draw fails this test
  }
  const NetworkSpec spec = network_spec(c, *find_activation("relu"));
  CHECK(spec.weight_init.label == "auto (per layer: he_normal for relu layers, xavier_normal for tanh layers)");
  CHECK(layer_init(spec, 2).scheme->name == "xavier_normal");
  CHECK(layer_init(spec, 3).scheme->name == "he_normal");

  // The mean-field model takes the same per-layer variance: sigma_w2 = fan_in Var(W_l).
  const MeanFieldModel m = mean_field_model(c, *find_activation("relu"));
  REQUIRE(m.sigma_w2.size() == 3);
  CHECK(m.sigma_w2[0] == doctest::Approx(2).epsilon(1e-14));
  CHECK(m.sigma_w2[1] == doctest::Approx(256 * 2.0 / 512).epsilon(1e-14));
  CHECK(m.sigma_w2[2] == doctest::Approx(2).epsilon(1e-14));

  // A named --init still draws every layer with it.
  AnalysisConfig named = mixed_config("he_normal");
  const NetworkSpec all_he = network_spec(named, *find_activation("relu"));
  CHECK(all_he.weight_init.label == "he_normal");
  CHECK(layer_init(all_he, 2).scheme->name == "he_normal");
  CHECK(std::abs(measured_variance(named, 2, 1) / he(256, 256) - 1) < 5 * std::sqrt(2.0 / 65536));
}

TEST_CASE("--init auto and --theory on a mixed stack: the measured variance per layer is the predicted q") {
  // The drawer and the mean-field model ask the same layer_init: at width 256 the pre-activation
  // variances of a relu/tanh/relu stack follow the length map with each layer's own sigma_w2.
  AnalysisConfig c = mixed_config("auto");
  c.width = {512, 512, 512};
  for (LayerOp& op : c.arch_ops) op.width = 512;
  c.input_dim = 512;
  c.loss = LossKind::random;
  const RunResult r = run_one(c, *find_activation("relu"));
  const TheoryComparison t = compare_with_theory(c, r);
  REQUIRE(t.predicted.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    // q of n x B roughly independent Gaussians: a few percent at 512 x 256.
    CHECK(std::abs(t.preact_var[i] / t.predicted[i].q - 1) < 0.05);
  }
  // relu then tanh: q_2 = sigma_w2,2 E[relu(h_1)^2] = sigma_w2,2 q_1 / 2, and xavier's 2/(512+512)
  // is sigma_w2,2 = 1, so q_2 = q_1 / 2 (the old draw, He's 2/512 for every layer: q_2 = q_1).
  CHECK(t.predicted[1].q == doctest::Approx(t.predicted[0].q / 2).epsilon(1e-9));
}

TEST_CASE("layer_init: one activation draws every layer with its scheme, linear layers included (as before)") {
  // A relu residual net behind a projection (input 10, stream 12): the projection and each
  // branch's last layer are linear; all draw he_normal, and the label is the scheme's name.
  AnalysisConfig c = residual_config("relu", 12, 3, 12);
  c.input_dim = 10;
  const NetworkSpec spec = network_spec(c, *find_activation("relu"));
  REQUIRE(spec.op(1).activation->name == "identity");
  for (Index l = 1; l <= spec.depth(); ++l) CHECK(layer_init(spec, l).scheme->name == "he_normal");
  CHECK(spec.weight_init.label == "he_normal");
  c.init = "fixup";
  CHECK(network_spec(c, *find_activation("relu")).weight_init.label == "fixup (he_normal)");
  // A deep linear net: identity's own scheme.
  AnalysisConfig linear = residual_config("identity", 4, 0, 8);
  linear.residual = 0;
  const NetworkSpec lin = network_spec(linear, *find_activation("identity"));
  CHECK(layer_init(lin, 2).scheme->name == "xavier_normal");
  CHECK(lin.weight_init.label == "xavier_normal");
}

TEST_CASE("layer_init: in a mixed residual block a linear layer takes the activation's before it") {
  // relu 8, then a block [tanh, linear] at width 8: the block's last layer reads tanh's output.
  const Activation& relu = *find_activation("relu");
  std::vector<LayerOp> ops = residual_stack(8, 8, 1, 2, *find_activation("tanh"), 0.01, 1, 1);
  ops.insert(ops.begin(), plain_stack({8}, relu, 0.01, 1).front());
  ops[2].stream = 1;
  AnalysisConfig c =
      arch_config("block.json", std::move(ops), {"layers[0]", "layers[1].block[0]", "layers[1].block[1]"}, {8, 8, 8}, 8, 2);
  validate(c);
  const NetworkSpec spec = network_spec(c, relu);
  REQUIRE(spec.op(3).kind == OpKind::skip_add);
  CHECK(layer_init(spec, 1).scheme->name == "he_normal");
  CHECK(layer_init(spec, 2).scheme->name == "xavier_normal");
  CHECK(layer_init(spec, 3).scheme->name == "xavier_normal");
  CHECK(spec.weight_init.label ==
        "auto (per layer: he_normal for relu layers, xavier_normal for tanh layers; a linear layer as the nearest "
        "activation before it, else after)");
  c.init = "fixup";
  const NetworkSpec fixup = network_spec(c, relu);
  CHECK(fixup.weight_init.label.starts_with("fixup (per layer: he_normal for relu layers, xavier_normal for tanh"));
  // Fixup's rule on top of each layer's scheme: one block of m = 2 layers, factor 1^(-1/2) = 1 on
  // the branch's first layer, 0 on its last.
  const Params<double> p = initial_params<double>(fixup);
  CHECK(init_factor(fixup, 2) == 1);
  CHECK(p.W[3].isZero(0));
  CHECK(layer_init(fixup, 2).variance(8, 8) == doctest::Approx(2.0 / 16));
}
