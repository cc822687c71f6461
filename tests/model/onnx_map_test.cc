// map_onnx on hand-made graphs: Gemm's alpha, beta and transB, MatMul + Add, pass-through ops,
// and every refusal (exit 2 through UsageError) naming what is wrong.
#include <doctest/doctest.h>

#include "model/onnx_map.h"
#include "onnx_nodes.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;
using gf::test::node;
using gf::test::tensor;

namespace {

// x (2) -> Gemm(W1: transB, alpha 2, beta 3) -> Tanh -> MatMul(B2) + Add(c2) -> head Gemm(W3).
OnnxGraph small() {
  OnnxGraph g;
  g.inputs = {{"x", {-1, 2}}};
  g.outputs = {"z"};
  g.initializers["W1"] = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  g.initializers["c1"] = tensor({3}, {1, -1, 0.5});
  g.initializers["B2"] = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  g.initializers["c2"] = tensor({1, 2}, {0.25, -0.25});
  g.initializers["W3"] = tensor({2, 2}, {1, 0, 0, 1});
  OnnxNode gemm = node("/l1/Gemm", "Gemm", {"x", "W1", "c1"}, "h1");
  gemm.attributes["transB"].i = 1;
  gemm.attributes["alpha"].f = 2;
  gemm.attributes["beta"].f = 3;
  OnnxNode w3 = node("/head/Gemm", "Gemm", {"h2d", "W3"}, "z");
  w3.attributes["transB"].i = 1;
  g.nodes = {gemm, node("/l1/Tanh", "Tanh", {"h1"}, "a1"), node("/l2/MatMul", "MatMul", {"a1", "B2"}, "m2"),
             node("/l2/Add", "Add", {"c2", "m2"}, "h2"), node("/drop", "Dropout", {"h2"}, "h2d"), w3};
  return g;
}

std::string refusal(const OnnxGraph& g) {
  return error_of([&] { map_onnx(g, "m.onnx"); });
}

}  // namespace

TEST_CASE("map_onnx: Gemm's alpha, beta, transB and MatMul + Add give W (out, in) and b") {
  const GivenNetwork n = map_onnx(small(), "m.onnx");
  CHECK(n.input_width == 2);
  REQUIRE(n.ops.size() == 3);
  CHECK(n.ops[0].kind == OpKind::dense);
  CHECK(n.ops[0].activation->name == "tanh");
  CHECK(n.ops[1].activation->name == "identity");  // no activation between layer 2 and the head
  CHECK(n.ops[2].kind == OpKind::head);
  CHECK(n.ops[2].width == 2);
  CHECK(n.names == std::vector<std::string>{"W1", "B2", "W3"});
  RowMat<double> w1(3, 2);
  w1 << 2, 4, 6, 8, 10, 12;  // alpha * B (transB)
  CHECK(n.W[0] == w1);
  CHECK(n.b[0] == (Vec<double>(3) << 3, -3, 1.5).finished());  // beta * C
  RowMat<double> w2(2, 3);
  w2 << 1, 3, 5, 2, 4, 6;  // MatMul's B^T
  CHECK(n.W[1] == w2);
  CHECK(n.b[1] == (Vec<double>(2) << 0.25, -0.25).finished());
  CHECK(n.b[2] == Vec<double>::Zero(2));
}

TEST_CASE("map_onnx: LeakyRelu's alpha becomes the layer's slope; Elu with alpha != 1 is refused") {
  OnnxGraph g = small();
  g.nodes[1].op_type = "LeakyRelu";
  g.nodes[1].attributes["alpha"].f = 0.2;
  const GivenNetwork n = map_onnx(g, "m.onnx");
  CHECK(n.ops[0].activation->name == "leaky_relu");
  CHECK(n.ops[0].activation_param == 0.2);
  g.nodes[1].op_type = "Elu";
  CHECK(refusal(g).find("node '/l1/Tanh' (Elu): alpha = 0.2; gradflow's elu has alpha 1") != std::string::npos);
}

TEST_CASE("map_onnx: refusals name the node, its op type, and what is supported") {
  OnnxGraph conv = small();
  conv.nodes[1].op_type = "Conv";
  CHECK(refusal(conv).rfind("--model: 'm.onnx': node '/l1/Tanh' (Conv) is not supported; gradflow reads dense "
                            "networks: Gemm, MatMul (+ Add: its bias), Relu",
                            0) == 0);
  OnnxGraph width = small();
  width.inputs[0].dims = {-1, 5};
  CHECK(refusal(width).find("its weight has 2 inputs, but 5 features reach it") != std::string::npos);
  OnnxGraph skip = small();  // the head reads the Tanh's output too: a branch
  skip.nodes[5].inputs = {"a1", "W3"};
  CHECK(refusal(skip).find("tensor 'a1' is read by 2 nodes") != std::string::npos);
  OnnxGraph cycle = small();  // the Dropout feeds the Tanh again
  cycle.nodes[4].outputs = {"h1"};
  CHECK(refusal(cycle).find("cycle") != std::string::npos);
  OnnxGraph softmax = small();
  softmax.nodes.push_back(node("/softmax", "Sigmoid", {"z"}, "p"));
  softmax.outputs = {"p"};
  CHECK(refusal(softmax).find("the output 'p' is not a linear layer's") != std::string::npos);
  OnnxGraph not_init = small();
  not_init.nodes[2].inputs = {"a1", "computed"};
  CHECK(refusal(not_init).find("input 2 is not an initializer") != std::string::npos);
  OnnxGraph bias = small();
  bias.initializers["c1"] = tensor({2}, {1, 2});
  CHECK(refusal(bias).find("its bias C has shape [2]; gradflow reads a bias of [3]") != std::string::npos);
  OnnxGraph trans_a = small();
  trans_a.nodes[0].attributes["transA"].i = 1;
  CHECK(refusal(trans_a).find("transA = 1 is not supported") != std::string::npos);
  OnnxGraph stray = small();
  stray.nodes.push_back(node("/stray", "Relu", {"q"}, "r"));
  CHECK(refusal(stray).find("node '/stray' (Relu) is not on the path") != std::string::npos);
  OnnxGraph two_inputs = small();
  two_inputs.inputs.push_back({"y", {1}});
  CHECK(refusal(two_inputs).find("2 inputs") != std::string::npos);
}

TEST_CASE("map_onnx: Reshape to [batch, features] passes; any other shape is refused") {
  OnnxGraph g = small();
  g.initializers["shape"] = tensor({2}, {-1, 3});
  g.nodes.insert(g.nodes.begin() + 2, node("/reshape", "Reshape", {"a1", "shape"}, "a1r"));
  g.nodes[3].inputs[0] = "a1r";
  CHECK(map_onnx(g, "m.onnx").ops.size() == 3);
  g.initializers["shape"] = tensor({3}, {-1, 3, 1});
  CHECK(refusal(g).find("node '/reshape' (Reshape): gradflow reads a Reshape only") != std::string::npos);
}
