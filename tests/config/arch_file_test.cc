// --arch FILE.json (config/arch_file): a mixed-width, mixed-activation network with norms,
// dropout and residual blocks gradient-checked in f64 against differences of its forward pass
// (analyze and train); files that say what flags say become those flags; every error names the
// entry; check_ops, the one check of an op list, refuses malformed lists of any producer.
#include <doctest/doctest.h>

#include <string>

#include "fd_check.h"
#include "base/errors.h"
#include "config/arch_file.h"
#include "core/engine.h"
#include "usage_error.h"

using namespace gf;
using namespace gf::test;

namespace {

AnalysisConfig from_text(const std::string& text) {
  AnalysisConfig c;
  load_arch_text(text, "net.json", c);
  return c;
}

// The UsageError's message of loading `text`, or "" if it loads.
std::string arch_error(const std::string& text, Index input_dim = 0) {
  return error_of([&] {
    AnalysisConfig c;
    c.input_dim = input_dim;
    load_arch_text(text, "net.json", c);
    validate(c);
  });
}

const char* kMixed = R"({"layers": [
  {"width": 7, "activation": "gelu", "norm": "layer", "dropout": 0.2},
  {"width": 5, "activation": "leaky_relu", "activation-param": 0.3},
  {"block": [{"width": 5, "activation": "tanh"}, {"width": 5, "activation": "relu", "dropout": 0.3}, {"width": 5}],
   "scale": 0.7, "norm": "rms", "norm-position": "post"},
  {"block": [{"width": 5, "activation": "silu"}, {"width": 5}], "scale": 0.5, "norm": "layer"},
  {"width": 6, "activation": "elu", "norm": "batch"}]})";

double engine_loss(Network<double>& net, const PassPolicy<double>& policy) {
  PassResult fo;
  forward_pass(net.spec, net.params, net.ws, policy, fo);
  return fo.loss;
}

}  // namespace

TEST_CASE("--arch: a mixed network (widths, activations, norms, dropout, blocks) against finite differences") {
  AnalysisConfig c = from_text(kMixed);
  REQUIRE(c.arch_ops.size() == 8);  // not a flag form
  CHECK(c.arch_entries[3] == "layers[2].block[1]");
  CHECK(c.depth == 8);
  CHECK(c.activations == std::vector<std::string>{"gelu"});
  c.init = "xavier_normal";  // a named scheme: every layer drawn alike
  c.input_dim = 4;
  c.batch = 6;
  c.classes = 3;
  c.sigma_b2 = 0.1;
  c.dtype = Dtype::f64;
  c.threads = 1;
  validate(c);
  Network<double> net(network_spec(c, *find_activation("gelu")));
  network_draw(net);
  const NetworkSpec& s = net.spec;
  CHECK(s.op(1).kind == OpKind::dense_norm);
  CHECK(s.op(2).activation_param == 0.3);
  CHECK(s.op(3).kind == OpKind::branch_in);
  CHECK(s.op(5).kind == OpKind::skip_add);
  CHECK(s.op(5).norm == NormKind::rms);
  CHECK(s.op(5).stream == 2);
  CHECK(s.op(6).norm == NormKind::layer);  // pre: on the branch's first layer
  CHECK(s.op(7).learn_alpha == false);
  CHECK(s.op(7).alpha == 0.5);
  CHECK(s.op(8).kind == OpKind::dense_norm);

  // analyze: d W of every layer (true scale through the tap) against differences of the loss.
  PassResult pass;
  GradientTap tap;
  network_forward(net, pass);
  REQUIRE(pass.overflow_layer == 0);
  network_backward(net, pass, &tap);
  const PassPolicy<double> analyze = analyze_policy<double>(s);
  const auto analyze_loss = [&] { return engine_loss(net, analyze); };
  double worst_analyze = 0;
  for (Index l = 1; l <= s.depth(); ++l)
    worst_analyze = std::max(worst_analyze, worst_entry_error(net.params.W[static_cast<std::size_t>(l)], tap.d_W[l], analyze_loss));
  CHECK(worst_analyze < 1e-6);

  // train at step 5 (its own dropout mask): every W, b, gain and shift.
  Params<double> g(s), g2(s);
  const PassPolicy<double> train = train_policy(1, g, false, 5);
  PassResult fo;
  forward_pass(s, net.params, net.ws, train, fo);
  backward_pass(s, net.params, net.ws, train, fo);
  const PassPolicy<double> forward_only = train_policy(1, g2, false, 5);
  const auto train_loss = [&] { return engine_loss(net, forward_only); };
  double worst_train = 0;
  for (Index l = 1; l <= s.depth() + 1; ++l) {
    const auto k = static_cast<std::size_t>(l);
    worst_train = std::max(worst_train, worst_entry_error(net.params.W[k], g.W[k], train_loss));
    worst_train = std::max(worst_train, worst_entry_error(net.params.b[k], g.b[k], train_loss));
    if (g.gain[k].size() > 0) {
      worst_train = std::max(worst_train, worst_entry_error(net.params.gain[k], g.gain[k], train_loss));
      worst_train = std::max(worst_train, worst_entry_error(net.params.shift[k], g.shift[k], train_loss));
    }
  }
  CHECK(worst_train < 1e-6);
  MESSAGE("--arch mixed net, worst relative error against central differences: analyze ", worst_analyze,
          ", train ", worst_train);
}

TEST_CASE("--arch: a file the flags can say becomes those flags") {
  const AnalysisConfig plain = from_text(R"({"layers": [{"width": 32, "activation": "tanh", "dropout": 0.25},
    {"width": 16, "activation": "tanh", "dropout": 0.25}]})");
  CHECK(plain.arch_ops.empty());
  CHECK(plain.depth == 2);
  CHECK(plain.width == std::vector<Index>{32, 16});
  CHECK(plain.activations == std::vector<std::string>{"tanh"});
  CHECK(plain.dropout == 0.25);

  const AnalysisConfig res = from_text(R"({"layers": [
    {"block": [{"width": 8, "activation": "relu"}, {"width": 8, "activation": "relu"}, {"width": 8}], "scale": 0, "norm": "layer", "norm-position": "post"},
    {"block": [{"width": 8, "activation": "relu"}, {"width": 8, "activation": "relu"}, {"width": 8}], "scale": 0, "norm": "layer", "norm-position": "post"}]})");
  CHECK(res.arch_ops.empty());
  CHECK(res.residual == 3);
  CHECK(res.depth == 6);
  CHECK(res.residual_scale == "0");
  CHECK(res.norm == NormKind::layer);
  CHECK(res.norm_position == NormPosition::post);

  // One activation differs: not a flag form.
  const AnalysisConfig mixed = from_text(R"({"layers": [{"width": 8, "activation": "relu"}, {"width": 8, "activation": "gelu"}]})");
  CHECK(mixed.arch_ops.size() == 2);
  CHECK(mixed.arch == "net.json");
}

TEST_CASE("--arch: errors name the entry, the value and what is allowed") {
  struct Case {
    const char* text;
    std::vector<std::string> fragments;
  };
  const std::vector<Case> cases = {
      {R"({"layers": [{"width": 8, "activation": "relux"}]})",
       {"--arch net.json: layers[0].activation: unknown value 'relux'", "did you mean 'relu'", "allowed: sigmoid"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"width": 8, "actvation": "relu"}]})",
       {"layers[1]: unknown key 'actvation'", "did you mean 'activation'"}},
      {R"({"layers": [{"width": 0, "activation": "relu"}]})", {"layers[0].width: 0 is not allowed", "whole number"}},
      {R"({"layers": [{"width": 8}]})", {"layers[0]: no \"activation\""}},
      {R"({"layers": [{"width": 8, "activation": "relu", "dropout": 1}]})", {"layers[0].dropout", "0 <= p < 1"}},
      {R"({"layers": [{"width": 8, "activation": "relu", "norm": "group"}]})",
       {"layers[0].norm: unknown value \"group\"", "allowed: none, batch, layer, rms"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"block": [{"width": 8, "activation": "relu"}, {"width": 6}]}]})",
       {"layers[1].block[1]", "width 6", "stream has 8"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"block": [{"width": 4, "activation": "relu"}, {"width": 4}]}]})",
       {"layers[1].block[0]", "stream it adds to has 8"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"block": [{"width": 8, "activation": "relu"}, {"width": 8, "activation": "tanh"}]}]})",
       {"layers[1].block[1].activation: 'tanh'", "linear"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"block": [{"width": 8, "activation": "relu"}]}]})",
       {"layers[1].block", "K >= 2"}},
      {R"({"layers": [{"width": 8, "activation": "relu"}, {"block": [{"width": 8, "activation": "relu", "norm": "layer"}, {"width": 8}]}]})",
       {"layers[1].block[0].norm", "the block's \"norm\""}},
      {R"({"layers": []})", {"layers: give a non-empty list"}},
      {R"({"layer": []})", {"unknown key 'layer'", "did you mean 'layers'"}},
      {R"({"layers": [{"block": [{"width": 8, "activation": "relu"}, {"width": 8}]}, {"width": 8, "activation": "gelu"}]})",
       {"layers[0].block[0]", "stream it adds to has 5"}},  // with --input-dim 5: no projection in a file
      {"{\"layers\": [", {"--arch net.json"}},
  };
  for (const Case& k : cases) {
    CAPTURE(k.text);
    const std::string message = arch_error(k.text, std::string(k.text).find("\"gelu\"}]}") != std::string::npos ? 5 : 0);
    CAPTURE(message);
    CHECK(!message.empty());
    for (const std::string& f : k.fragments) CHECK(message.find(f) != std::string::npos);
  }
}

TEST_CASE("check_ops: the one check of an op list, for producers other than the flags") {
  const Activation& relu = *find_activation("relu");
  const Activation& linear = *find_activation("identity");
  std::vector<LayerOp> ok = residual_stack(4, 4, 2, 2, relu, 0.01, 0.5, 3);
  CHECK(!check_ops(4, ok));
  CHECK(!check_ops(4, plain_stack({6, 5}, relu, 0.01, 3, NormKind::batch)));

  std::vector<LayerOp> bad = ok;
  bad.pop_back();  // no head
  CHECK(check_ops(4, bad)->message.find("head") != std::string::npos);
  bad = ok;
  bad[1].activation = &relu;  // a nonlinear last layer of block 1
  CHECK(check_ops(4, bad)->op == 1);
  bad = ok;
  bad[1].stream = 1;  // the skip reads the wrong slot
  CHECK(check_ops(4, bad)->message.find("wrong slot") != std::string::npos);
  bad = ok;
  bad[2].block = 3;  // blocks numbered 1, 3
  CHECK(check_ops(4, bad)->message.find("block 3 follows block 1") != std::string::npos);
  bad = ok;
  bad[0].dropout = 1;
  CHECK(check_ops(4, bad)->op == 0);
  bad = ok;
  bad[1].dropout = 0.5;  // after a linear layer
  CHECK(check_ops(4, bad)->message.find("linear") != std::string::npos);
  bad = plain_stack({6}, relu, 0.01, 3);
  bad[0].activation = nullptr;
  CHECK(check_ops(4, bad)->message.find("activation") != std::string::npos);
  bad = {{OpKind::dense, 4, &linear, 0}, {OpKind::head, 3, nullptr, 0}, {OpKind::head, 3, nullptr, 0}};
  CHECK(check_ops(4, bad)->op == 1);
}
