// --init fixup (Zhang et al. 2019): the draw follows the paper's rule layer by layer, every
// block is the identity at init (so is the input-output Jacobian), analyze says why no gradient
// flows under the zero head, and train's gradients through the zero branch ends agree with
// finite differences of the forward pass.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "fd_check.h"
#include "residual_config.h"
#include "core/engine.h"
#include "core/jacobian.h"
#include "core/run_json.h"
#include "core/summary.h"

using namespace gf;
using namespace gf::test;

namespace {

Network<double> drawn(const AnalysisConfig& c) {
  Network<double> net(network_spec(c, *find_activation(c.activations[0])));
  network_draw(net);
  return net;
}

}  // namespace

TEST_CASE("fixup draws the standard scheme scaled by blocks^(-1/(2K-2)) in branches, zero branch ends and head") {
  // 4 blocks of K = 3 behind a projection (input 10, stream 12): factor 4^(-1/4) = 1/sqrt(2).
  AnalysisConfig c = residual_config("relu", 12, 3, 12);
  c.input_dim = 10;
  c.init = "fixup";
  const Network<double> fixup = drawn(c);
  c.init = "he_normal";  // relu's auto scheme, which Fixup starts from
  const Network<double> standard = drawn(c);
  const double f = 1 / std::sqrt(2.0);
  REQUIRE(fixup.spec.depth() == 13);
  CHECK(fixup.params.W[1] == standard.params.W[1]);  // the projection: outside every branch
  for (Index l = 2; l <= 13; ++l) {
    CAPTURE(l);
    if ((l - 1) % 3 == 0) CHECK(fixup.params.W[l].isZero(0));  // each branch's last layer
    else CHECK((fixup.params.W[l] - standard.params.W[l] * f).cwiseAbs().maxCoeff() < 1e-15);
  }
  CHECK(fixup.params.W[14].isZero(0));  // the head
  CHECK(!standard.params.W[14].isZero(0));

  // Regenerated weights follow the same rule: identical results.
  c.init = "fixup";
  c.weights = WeightsMode::store;
  const std::string stored = run_json(run_one(c, *find_activation("relu"))).dump();
  c.weights = WeightsMode::regenerate;
  CHECK(run_json(run_one(c, *find_activation("relu"))).dump() == stored);
}

TEST_CASE("fixup at init: every block is the identity, J = I, and analyze says why no gradient flows") {
  AnalysisConfig c = residual_config("tanh", 20, 2, 16, "1", 6);
  c.init = "fixup";
  Network<double> net = drawn(c);
  PassResult pass;
  network_forward(net, pass);
  CHECK(net.ws.A[20] == net.ws.A[0]);
  const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, pass, 3);
  for (std::size_t k = 0; k < 3; ++k)
    for (Index i = 0; i < sp.s[k].size(); ++i) CHECK(sp.s[k][i] * std::pow(10.0, sp.log10_scale[k]) == doctest::Approx(1).epsilon(1e-14));

  const RunResult r = run_one(c, *find_activation("tanh"));
  CHECK(r.pass.zero_grad_layer == 21);  // the head
  for (const LayerStats& st : r.pass.layers) CHECK(std::isnan(st.grad_weight_log10));
  REQUIRE(!r.summary.notes.empty());
  auto has_note = [&](std::string_view text) {
    return std::any_of(r.summary.notes.begin(), r.summary.notes.end(),
                       [&](const std::string& n) { return n.find(text) != std::string::npos; });
  };
  CHECK(has_note("head's weights are all zero"));
  CHECK(has_note("every block is the identity at initialisation"));
  CHECK(r.summary.verdict == std::vector<std::string>{"healthy"});
}

// After the head has moved (as after one training step), only the branches' last layers and the
// head get a gradient: the zero W_K stops everything else. Both against central differences of
// the engine's own forward loss, entry by entry.
TEST_CASE("fixup: train's gradients with a moved head agree with finite differences") {
  AnalysisConfig c = residual_config("tanh", 4, 2, 5, "1", 3);
  c.init = "fixup";
  c.classes = 3;
  c.sigma_b2 = 0.1;
  Network<double> net = drawn(c);
  net.params.W[5] = Eigen::MatrixXd::Random(3, 5) * 0.5;  // the head, moved
  const auto loss = [&] {
    PassResult p;
    network_forward(net, p);
    return p.loss;
  };
  Params<double> g(net.spec);
  PassResult fo;
  forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
  backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
  double worst = 0;
  for (Index l = 1; l <= 5; ++l) {
    worst = std::max(worst, worst_entry_error(net.params.W[l], g.W[l], loss));
    worst = std::max(worst, worst_entry_error(net.params.b[l], g.b[l], loss));
  }
  CHECK(worst < 1e-6);
  CHECK(g.W[1].isZero(0));       // a branch's first layer: behind its zero last layer
  CHECK(!g.W[2].isZero(0));      // the branch's last layer learns first
  CHECK(!g.W[5].isZero(0));      // and the head
}
