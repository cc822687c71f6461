#pragma once
// The graph around a node, and the multi-node forms exporters write for one op: PyTorch's erf
// GELU, Softsign and SiLU before they had ONNX ops of their own, and LayerNorm as older opsets
// (< 17) spell it. Each matcher looks at a tensor x and the nodes reading it, and returns the
// nodes it covers and the tensor the op writes; nothing when the form does not start there. The
// LayerNorm matcher refuses a near-miss (it starts, then differs), naming the node where.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/onnx_graph.h"

namespace gf {

// The graph indexed for the walk: which tensors are constants (initializers, Constant nodes'
// values, and Identity nodes copying either, which PyTorch's exporter writes when two
// parameters are equal) and which nodes read each computed tensor.
// "node '/ln/Pow' (Pow)", or for a node without a name, "the Gemm node writing '3' (unnamed)".
std::string onnx_node_text(const OnnxNode& n);

struct OnnxIndex {
  OnnxIndex(const OnnxGraph& g, const std::string& path);

  const OnnxGraph& g;
  const std::string& path;
  std::map<std::string, const OnnxTensor*> constants;
  std::map<std::string, std::vector<std::size_t>> readers;  // computed tensors only

  const OnnxTensor* constant(const std::string& tensor) const;
  // A one-element constant equal to `value` (within 1e-6 relative: exporters store f32).
  bool is_scalar(const std::string& tensor, double value) const;
  // The one node reading `tensor`, if it is one and of type `op`; else npos.
  std::size_t sole_reader(const std::string& tensor, const char* op) const;
  // Constant nodes and Identity nodes of a constant: not on the features' path.
  bool is_constant_node(std::size_t k) const;
  std::string node_text(std::size_t k) const;  // onnx_node_text of node k
  [[noreturn]] void fail(const std::string& what) const;  // UsageError "--model: 'path': what"
};

struct PatternMatch {
  std::vector<std::size_t> nodes;  // every node of the form, in graph order of the form
  std::string output;
};

// 0.5 * (x * (1 + erf(x / sqrt 2))): Div, Erf, Add, Mul, Mul.
std::optional<PatternMatch> match_gelu(const OnnxIndex& ix, const std::string& x, const std::vector<std::size_t>& readers);
// x / (1 + |x|): Abs, Add, Div.
std::optional<PatternMatch> match_softsign(const OnnxIndex& ix, const std::string& x,
                                           const std::vector<std::size_t>& readers);
// x * sigmoid(x): Sigmoid, Mul.
std::optional<PatternMatch> match_silu(const OnnxIndex& ix, const std::string& x, const std::vector<std::size_t>& readers);

// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gain + bias over the last axis:
// ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, then Mul gain and Add bias if present.
struct LayerNormMatch {
  PatternMatch match;
  double eps = 0;
  const OnnxTensor* gain = nullptr;  // nullptr: 1 (elementwise_affine=False)
  const OnnxTensor* bias = nullptr;  // nullptr: 0
};
std::optional<LayerNormMatch> match_layer_norm(const OnnxIndex& ix, const std::string& x,
                                               const std::vector<std::size_t>& readers);

}  // namespace gf
