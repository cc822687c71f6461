// map_onnx on hand-made graphs with residual blocks, norms and the multi-node forms of older
// exporters: what each maps to (ops, weights, gains), and every near-miss refused by name.
#include <cmath>
#include <doctest/doctest.h>

#include "model/onnx_map.h"
#include "onnx_nodes.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;
using gf::test::node;
using gf::test::tensor;

namespace {

OnnxNode gemm(std::string name, std::string in, std::string w, std::string out) {
  OnnxNode n = node(std::move(name), "Gemm", {std::move(in), w, w + ".b"}, std::move(out));
  n.attributes["transB"].i = 1;
  return n;
}

void linear(OnnxGraph& g, const std::string& w, Index out, Index in, double scale) {
  std::vector<double> v;
  for (Index k = 0; k < out * in; ++k) v.push_back(scale * std::sin(1.0 + static_cast<double>(k)));
  g.initializers[w] = tensor({out, in}, v);
  std::vector<double> b;
  for (Index k = 0; k < out; ++k) b.push_back(0.1 * static_cast<double>(k));
  g.initializers[w + ".b"] = tensor({out}, b);
}

// x (3) -> fc0 tanh -> [s + fc2(relu(fc1(LN(s))))] -> head (2).
OnnxGraph pre_ln_block() {
  OnnxGraph g;
  g.inputs = {{"x", {-1, 3}}};
  g.outputs = {"z"};
  linear(g, "fc0", 4, 3, 0.5);
  linear(g, "fc1", 4, 4, 0.5);
  linear(g, "fc2", 4, 4, 0.5);
  linear(g, "head", 2, 4, 0.5);
  g.initializers["ln.g"] = tensor({4}, {1, 2, 3, 4});
  g.initializers["ln.b"] = tensor({4}, {0, 0.5, 0, -0.5});
  OnnxNode ln = node("/ln", "LayerNormalization", {"s", "ln.g", "ln.b"}, "u");
  ln.attributes["epsilon"].f = 1e-3;
  g.nodes = {gemm("/fc0", "x", "fc0", "h0"),        node("/act0", "Tanh", {"h0"}, "s"),
             ln,                                    gemm("/fc1", "u", "fc1", "h1"),
             node("/act1", "Relu", {"h1"}, "a1"),   gemm("/fc2", "a1", "fc2", "f"),
             node("/skip", "Add", {"s", "f"}, "s1"), gemm("/head", "s1", "head", "z")};
  return g;
}

std::string refusal(const OnnxGraph& g, BnMode bn = BnMode::running) {
  return error_of([&] { map_onnx(g, "m.onnx", bn); });
}

// Replaces node `name` of g by `with` (several nodes), rewiring nothing.
void replace(OnnxGraph& g, const std::string& name, const std::vector<OnnxNode>& with) {
  for (std::size_t k = 0; k < g.nodes.size(); ++k)
    if (g.nodes[k].name == name) {
      g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(k));
      g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(k), with.begin(), with.end());
      return;
    }
  FAIL("no node " << name);
}

// LayerNorm of s into u as PyTorch's opset-13 export writes it.
std::vector<OnnxNode> decomposed_ln(OnnxGraph& g, double exponent) {
  OnnxNode mean = node("/ln/ReduceMean", "ReduceMean", {"s"}, "m");
  mean.attributes["axes"].ints = {-1};
  OnnxNode var = node("/ln/ReduceMean_1", "ReduceMean", {"p"}, "v");
  var.attributes["axes"].ints = {-1};
  g.initializers["two"] = tensor({}, {exponent});
  g.initializers["eps"] = tensor({}, {1e-3});
  return {mean,
          node("/ln/Sub", "Sub", {"s", "m"}, "d"),
          node("/ln/Pow", "Pow", {"d", "two"}, "p"),
          var,
          node("/ln/Add", "Add", {"v", "eps"}, "ve"),
          node("/ln/Sqrt", "Sqrt", {"ve"}, "sd"),
          node("/ln/Div", "Div", {"d", "sd"}, "n"),
          node("/ln/Mul", "Mul", {"n", "ln.g"}, "ng"),
          node("/ln/Add_1", "Add", {"ng", "ln.b"}, "u")};
}

}  // namespace

TEST_CASE("map_onnx: a pre-LN residual block is branch_in (its LN) and skip_add on the stream before it") {
  const GivenNetwork n = map_onnx(pre_ln_block(), "m.onnx");
  REQUIRE(n.ops.size() == 4);
  CHECK(n.names == std::vector<std::string>{"fc0", "fc1", "fc2", "head"});
  CHECK(n.ops[0].kind == OpKind::dense);
  CHECK(n.ops[1].kind == OpKind::branch_in);
  CHECK(n.ops[1].norm == NormKind::layer);
  CHECK(n.ops[1].norm_eps == doctest::Approx(1e-3));
  CHECK(n.ops[1].activation->name == "relu");
  CHECK(n.ops[1].block == 1);
  CHECK(n.ops[2].kind == OpKind::skip_add);
  CHECK(n.ops[2].stream == 1);  // A[1], fc0's tanh output
  CHECK(n.ops[2].alpha == 1);
  CHECK(n.ops[2].norm == NormKind::none);
  CHECK(n.gain[1] == (Vec<double>(4) << 1, 2, 3, 4).finished());
  CHECK(n.shift[1] == (Vec<double>(4) << 0, 0.5, 0, -0.5).finished());
  CHECK(n.gain[0].size() == 0);
  CHECK(n.ops[3].kind == OpKind::head);
}

TEST_CASE("map_onnx: LayerNorm's opset-13 decomposition maps as LayerNormalization does; a near-miss is named") {
  OnnxGraph g = pre_ln_block();
  replace(g, "/ln", decomposed_ln(g, 2));
  const GivenNetwork n = map_onnx(g, "m.onnx");
  const GivenNetwork ref = map_onnx(pre_ln_block(), "m.onnx");
  CHECK(n.ops == ref.ops);
  CHECK(n.gain[1] == ref.gain[1]);
  CHECK(n.shift[1] == ref.shift[1]);

  OnnxGraph cube = pre_ln_block();
  replace(cube, "/ln", decomposed_ln(cube, 3));
  CHECK(refusal(cube).find("node '/ln/Pow' (Pow): this looks like LayerNorm's decomposition") != std::string::npos);
  CHECK(refusal(cube).find("the exponent is not the constant 2") != std::string::npos);
  OnnxGraph axis = pre_ln_block();
  std::vector<OnnxNode> nodes = decomposed_ln(axis, 2);
  nodes[3].attributes["axes"].ints = {0};  // the variance over the batch
  replace(axis, "/ln", nodes);
  CHECK(refusal(axis).find("node '/ln/ReduceMean_1' (ReduceMean)") != std::string::npos);
  OnnxGraph no_eps = pre_ln_block();
  nodes = decomposed_ln(no_eps, 2);
  no_eps.initializers["eps"] = tensor({}, {0});
  replace(no_eps, "/ln", nodes);
  CHECK(refusal(no_eps).find("node '/ln/Add' (Add): this looks like") != std::string::npos);
}

TEST_CASE("map_onnx: a post-LN block puts the norm on skip_add; a Pre-LN net's final norm is refused") {
  OnnxGraph g = pre_ln_block();
  g.nodes[2].inputs[0] = "s1";  // LN(s + F(s)): the branch reads s, the head LN's output
  g.nodes[2].outputs = {"s2"};
  g.nodes[3].inputs[0] = "s";
  g.nodes[7].inputs[0] = "s2";
  std::swap(g.nodes[2], g.nodes[6]);
  const GivenNetwork n = map_onnx(g, "m.onnx");
  CHECK(n.ops[1].kind == OpKind::branch_in);
  CHECK(n.ops[1].norm == NormKind::none);
  CHECK(n.ops[2].kind == OpKind::skip_add);
  CHECK(n.ops[2].norm == NormKind::layer);
  CHECK(n.gain[2] == (Vec<double>(4) << 1, 2, 3, 4).finished());

  OnnxGraph both = pre_ln_block();
  OnnxNode final_ln = both.nodes[2];
  final_ln.name = "/final_ln";
  final_ln.inputs[0] = "s1";
  final_ln.outputs = {"s2"};
  both.nodes.insert(both.nodes.end() - 1, final_ln);
  both.nodes.back().inputs[0] = "s2";
  CHECK(refusal(both).find("node '/final_ln' (LayerNormalization): a norm after block 1, whose branch starts with a "
                           "norm too") != std::string::npos);
}

TEST_CASE("map_onnx: residual blocks that are not gradflow's are refused, saying why") {
  OnnxGraph one = pre_ln_block();  // s + relu(fc1(LN(s))): the branch ends in an activation
  one.nodes[6].inputs = {"s", "a1"};
  one.nodes.erase(one.nodes.begin() + 5);
  CHECK(refusal(one).find("the residual branch from 's' (summed by node '/skip' (Add)) ends with an activation") !=
        std::string::npos);
  OnnxGraph single = pre_ln_block();  // s + fc1(LN(s)): one linear layer
  single.nodes[6].inputs = {"s", "h1"};
  single.nodes.erase(single.nodes.begin() + 4, single.nodes.begin() + 6);
  CHECK(refusal(single).find("is one linear layer ('fc1'); gradflow's residual blocks have K >= 2") != std::string::npos);
  OnnxGraph after = pre_ln_block();  // relu(s + F(s)), the original ResNet's form
  after.nodes.insert(after.nodes.end() - 1, node("/post_relu", "Relu", {"s1"}, "r"));
  after.nodes.back().inputs[0] = "r";
  CHECK(refusal(after).find("node '/post_relu' (Relu) follows a skip connection's sum") != std::string::npos);
  OnnxGraph inner = pre_ln_block();  // a LayerNorm between fc1 and its activation, inside the branch
  OnnxNode ln2 = inner.nodes[2];
  ln2.name = "/inner_ln";
  ln2.inputs[0] = "h1";
  ln2.outputs = {"h1n"};
  inner.nodes.insert(inner.nodes.begin() + 4, ln2);
  inner.nodes[5].inputs = {"h1n"};
  CHECK(refusal(inner).find("node '/inner_ln' (LayerNormalization): a norm inside a residual branch") != std::string::npos);
  OnnxGraph width = pre_ln_block();
  linear(width, "fc2", 3, 4, 0.5);
  CHECK(refusal(width).find("node '/skip' (Add): adds the branch's 3 features to the stream's 4") != std::string::npos);
}

TEST_CASE("map_onnx: BatchNormalization at its running statistics is the affine map g h + beta; batch mode keeps gamma, beta") {
  OnnxGraph g = pre_ln_block();  // fc0 -> BN -> tanh, no block
  g.initializers["bn.scale"] = tensor({4}, {1, 2, 0.5, 1});
  g.initializers["bn.B"] = tensor({4}, {0.1, 0.2, 0.3, 0.4});
  g.initializers["bn.mean"] = tensor({4}, {1, -1, 0, 2});
  g.initializers["bn.var"] = tensor({4}, {4, 1, 0.25, 9});
  OnnxNode bn = node("/bn", "BatchNormalization", {"h0", "bn.scale", "bn.B", "bn.mean", "bn.var"}, "h0n");
  bn.attributes["epsilon"].f = 0.5;
  g.nodes = {gemm("/fc0", "x", "fc0", "h0"), bn, node("/act0", "Tanh", {"h0n"}, "s"), gemm("/head", "s", "head", "z")};
  const GivenNetwork n = map_onnx(g, "m.onnx");
  CHECK(n.ops[0].kind == OpKind::dense_norm);
  CHECK(n.ops[0].norm == NormKind::affine);
  // g = scale / sqrt(var + eps), beta = B - g mean, by hand (var + eps = 4.5, 1.5, 0.75, 9.5)
  const Vec<double> gain = (Vec<double>(4) << 1 / std::sqrt(4.5), 2 / std::sqrt(1.5), 0.5 / std::sqrt(0.75),
                            1 / std::sqrt(9.5)).finished();
  CHECK(n.gain[0].isApprox(gain, 1e-15));
  CHECK(n.shift[0].isApprox((Vec<double>(4) << 0.1 - gain[0], 0.2 + gain[1], 0.3, 0.4 - 2 * gain[3]).finished(), 1e-15));
  CHECK(n.ops[0].norm_eps == 0.5);
  const GivenNetwork b = map_onnx(g, "m.onnx", BnMode::batch);
  CHECK(b.ops[0].norm == NormKind::batch);
  CHECK(b.gain[0] == (Vec<double>(4) << 1, 2, 0.5, 1).finished());
  CHECK(b.shift[0] == (Vec<double>(4) << 0.1, 0.2, 0.3, 0.4).finished());

  OnnxGraph training = g;
  training.nodes[1].attributes["training_mode"].i = 1;
  CHECK(refusal(training).find("node '/bn' (BatchNormalization): training_mode = 1") != std::string::npos);
  OnnxGraph shape = g;
  shape.initializers["bn.var"] = tensor({3}, {1, 1, 1});
  CHECK(refusal(shape).find("its var has shape [3]; gradflow reads one per feature ([4])") != std::string::npos);
  OnnxGraph after_act = g;  // fc0 -> tanh -> BN -> head: a norm after the activation
  after_act.nodes = {gemm("/fc0", "x", "fc0", "h0"), node("/act0", "Tanh", {"h0"}, "s"),
                     node("/bn", "BatchNormalization", {"s", "bn.scale", "bn.B", "bn.mean", "bn.var"}, "sn"),
                     gemm("/head", "sn", "head", "z")};
  CHECK(refusal(after_act).find("node '/bn' (BatchNormalization): gradflow reads a norm right after a Gemm") !=
        std::string::npos);
}

TEST_CASE("map_onnx: Clip(-1, 1) is hard_tanh, other bounds are named; Softsign's and SiLU's forms map") {
  OnnxGraph g = pre_ln_block();
  g.initializers["lo"] = tensor({}, {-1});
  g.initializers["hi"] = tensor({}, {1});
  g.initializers["one"] = tensor({}, {1});
  g.nodes = {gemm("/fc0", "x", "fc0", "h0"),
             node("/clip", "Clip", {"h0", "lo", "hi"}, "a0"),
             gemm("/fc1", "a0", "fc1", "h1"),
             node("/abs", "Abs", {"h1"}, "ab"),
             node("/add1", "Add", {"ab", "one"}, "den"),
             node("/div", "Div", {"h1", "den"}, "a1"),
             gemm("/fc2", "a1", "fc2", "h2"),
             node("/sig", "Sigmoid", {"h2"}, "sg"),
             node("/mul", "Mul", {"h2", "sg"}, "a2"),
             gemm("/head", "a2", "head", "z")};
  const GivenNetwork n = map_onnx(g, "m.onnx");
  REQUIRE(n.ops.size() == 4);
  CHECK(n.ops[0].activation->name == "hard_tanh");
  CHECK(n.ops[1].activation->name == "softsign");
  CHECK(n.ops[2].activation->name == "silu");
  OnnxGraph relu6 = g;
  relu6.initializers["lo"] = tensor({}, {0});
  relu6.initializers["hi"] = tensor({}, {6});
  CHECK(refusal(relu6).find("node '/clip' (Clip): min = 0, max = 6; gradflow reads Clip as hard_tanh") != std::string::npos);
}

TEST_CASE("map_onnx: an Identity copying an initializer (PyTorch's exporter shares equal parameters) is that initializer") {
  OnnxGraph g = pre_ln_block();
  g.nodes.insert(g.nodes.begin(), node("Identity_0", "Identity", {"ln.g"}, "ln.g.copy"));
  g.nodes[3].inputs[1] = "ln.g.copy";
  const GivenNetwork n = map_onnx(g, "m.onnx");
  CHECK(n.gain[1] == (Vec<double>(4) << 1, 2, 3, 4).finished());
}

TEST_CASE("map_onnx: a scalar Mul before the skip connection's Add is the branch's scale alpha") {
  OnnxGraph g = pre_ln_block();
  g.initializers["c"] = tensor({}, {-0.25});
  replace(g, "/skip", {node("/scale", "Mul", {"c", "f"}, "cf"), node("/skip", "Add", {"cf", "s"}, "s1")});
  const GivenNetwork net = map_onnx(g, "m.onnx");
  REQUIRE(net.ops.size() == 4);
  CHECK(net.ops[2].kind == OpKind::skip_add);
  CHECK(net.ops[2].alpha == -0.25);
  CHECK(net.ops[1].alpha == 1.0);  // the branch's first layer carries none
  // Unscaled, alpha stays 1.
  CHECK(map_onnx(pre_ln_block(), "m.onnx").ops[2].alpha == 1.0);

  // Not a scale: a vector, a Mul inside the branch, two scales, a Mul outside any block.
  OnnxGraph vec = g;
  vec.initializers["c"] = tensor({4}, {1, 2, 3, 4});
  CHECK(refusal(vec).find("node '/scale' (Mul): gradflow reads Mul as a residual branch's scale") != std::string::npos);
  OnnxGraph inside = pre_ln_block();
  inside.initializers["c"] = tensor({1}, {2.0});
  replace(inside, "/act1", {node("/scale", "Mul", {"h1", "c"}, "h1c"), node("/act1", "Relu", {"h1c"}, "a1")});
  CHECK(refusal(inside).find("node '/scale' (Mul)") != std::string::npos);
  OnnxGraph twice = g;
  replace(twice, "/scale", {node("/scale0", "Mul", {"c", "f"}, "f0"), node("/scale", "Mul", {"c", "f0"}, "cf")});
  CHECK(refusal(twice).find("node '/scale0' (Mul)") != std::string::npos);
  OnnxGraph outside = pre_ln_block();
  outside.initializers["c"] = tensor({}, {2.0});
  replace(outside, "/act0", {node("/scale", "Mul", {"h0", "c"}, "h0c"), node("/act0", "Tanh", {"h0c"}, "s")});
  CHECK(refusal(outside).find("node '/scale' (Mul)") != std::string::npos);
  OnnxGraph inf = g;
  inf.initializers["c"] = tensor({}, {INFINITY});
  CHECK(refusal(inf).find("the branch's scale is inf") != std::string::npos);
}
