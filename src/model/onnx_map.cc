#include "model/onnx_map.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <set>

#include "base/errors.h"
#include "core/activation.h"

namespace gf {

namespace {

// ONNX activation ops and gradflow's activations (core/activation.cc); the attribute checks are
// in activation_param below.
struct OnnxActivation {
  const char* op;
  const char* activation;
};
constexpr OnnxActivation kActivations[] = {
    {"Relu", "relu"},       {"LeakyRelu", "leaky_relu"}, {"Sigmoid", "sigmoid"},   {"Tanh", "tanh"},
    {"Elu", "elu"},         {"Selu", "selu"},            {"Gelu", "gelu"},         {"Softplus", "softplus"},
    {"Softsign", "softsign"},
};
// Ops that leave the feature vector as it is.
constexpr const char* kPassThrough[] = {"Identity", "Dropout", "Flatten", "Reshape"};

const OnnxActivation* find_onnx_activation(const std::string& op) {
  for (const OnnxActivation& a : kActivations)
    if (op == a.op) return &a;
  return nullptr;
}

// ONNX's defaults of Selu (the constants of Klambauer et al. 2017, as gradflow's selu uses).
constexpr double kSeluAlpha = 1.67326319217681884765625, kSeluGamma = 1.05070102214813232421875;

class Mapper {
 public:
  Mapper(const OnnxGraph& g, const std::string& path) : g_(g), path_(path) {}

  GivenNetwork run();

 private:
  struct Linear {
    RowMat<double> W;
    Vec<double> b;
    std::string name;
    bool from_matmul = false, has_bias = false;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw UsageError(fmt::format("--model: '{}': {}", path_, what));
  }
  std::string node_text(const OnnxNode& n) const { return fmt::format("node '{}' ({})", n.name, n.op_type); }
  const OnnxTensor& weight(const OnnxNode& n, std::size_t input) const;
  double attr_f(const OnnxNode& n, const char* key, double fallback) const;
  std::int64_t attr_i(const OnnxNode& n, const char* key, std::int64_t fallback) const;
  void check_in_width(const OnnxNode& n, Index in) const;
  void emit(const Activation& act, double param);
  void gemm(const OnnxNode& n);
  void matmul(const OnnxNode& n);
  void add(const OnnxNode& n);
  void activation(const OnnxNode& n, const OnnxActivation& a);
  void reshape(const OnnxNode& n);
  std::vector<double> constant_values(const std::string& tensor) const;
  bool is_constant(const std::string& tensor, double value) const;
  std::size_t sole_reader(const std::string& tensor, const char* op) const;
  std::optional<std::string> gelu_decomposition(const std::string& x, const std::vector<std::size_t>& two);

  const OnnxGraph& g_;
  const std::string& path_;
  GivenNetwork net_;
  std::optional<Linear> pending_;  // the linear layer whose activation comes next
  Index width_ = -1;               // the feature vector's width where the walk is; -1 unknown
  std::string cur_;                // the tensor the node in hand reads
  std::map<std::string, std::vector<std::size_t>> readers_;  // the nodes reading each tensor (not initializers)
  std::vector<bool> seen_;
};

double Mapper::attr_f(const OnnxNode& n, const char* key, double fallback) const {
  auto it = n.attributes.find(key);
  return it != n.attributes.end() && it->second.f ? *it->second.f : fallback;
}

std::int64_t Mapper::attr_i(const OnnxNode& n, const char* key, std::int64_t fallback) const {
  auto it = n.attributes.find(key);
  return it != n.attributes.end() && it->second.i ? *it->second.i : fallback;
}

const OnnxTensor& Mapper::weight(const OnnxNode& n, std::size_t input) const {
  auto it = n.inputs.size() > input ? g_.initializers.find(n.inputs[input]) : g_.initializers.end();
  if (it == g_.initializers.end())
    fail(fmt::format("{}: input {} is not an initializer; gradflow reads weights stored in the model", node_text(n),
                     input + 1));
  return it->second;
}

void Mapper::check_in_width(const OnnxNode& n, Index in) const {
  if (width_ >= 0 && in != width_)
    fail(fmt::format("{}: its weight has {} inputs, but {} features reach it", node_text(n), in, width_));
}

// The pending linear layer becomes a hidden layer with `act` after it.
void Mapper::emit(const Activation& act, double param) {
  Linear& p = *pending_;
  LayerOp op{OpKind::dense, p.W.rows(), &act, param};
  net_.ops.push_back(op);
  net_.names.push_back(p.name);
  net_.W.push_back(std::move(p.W));
  net_.b.push_back(std::move(p.b));
  pending_.reset();
}

// Y = alpha A B' + beta C, B' = B or B^T (transB): W = alpha B' ^T, b = beta C.
void Mapper::gemm(const OnnxNode& n) {
  if (attr_i(n, "transA", 0) != 0) fail(fmt::format("{}: transA = 1 is not supported (the batch runs along rows)", node_text(n)));
  const OnnxTensor& B = weight(n, 1);
  if (B.dims.size() != 2) fail(fmt::format("{}: its weight has {} dimensions, not 2", node_text(n), B.dims.size()));
  const bool trans_b = attr_i(n, "transB", 0) != 0;
  const Index rows = static_cast<Index>(B.dims[0]), cols = static_cast<Index>(B.dims[1]);
  if (rows == 0 || cols == 0) fail(fmt::format("{}: its weight has shape [{},{}]", node_text(n), rows, cols));
  const Eigen::Map<const RowMat<double>> b_mat(B.values.data(), rows, cols);
  Linear lin;
  lin.W = attr_f(n, "alpha", 1.0) * (trans_b ? RowMat<double>(b_mat) : RowMat<double>(b_mat.transpose()));
  lin.name = n.inputs[1];
  const Index out = lin.W.rows();
  lin.b = Vec<double>::Zero(out);
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    const OnnxTensor& C = weight(n, 2);
    const bool vector = (C.dims.size() == 1 && C.dims[0] == out) || (C.dims.size() == 2 && C.dims[0] == 1 && C.dims[1] == out);
    if (!vector)
      fail(fmt::format("{}: its bias C has shape [{}]; gradflow reads a bias of [{}] (one per output)", node_text(n),
                       fmt::join(C.dims, ","), out));
    lin.b = attr_f(n, "beta", 1.0) * Eigen::Map<const Vec<double>>(C.values.data(), out);
    lin.has_bias = true;
  }
  check_in_width(n, lin.W.cols());
  if (pending_) emit(*find_activation("identity"), 0);
  pending_ = std::move(lin);
  width_ = out;
}

// Y = A B with B (K, N): W = B^T; an Add after it may give the bias.
void Mapper::matmul(const OnnxNode& n) {
  const OnnxTensor& B = weight(n, 1);
  if (B.dims.size() != 2) fail(fmt::format("{}: its weight has {} dimensions, not 2", node_text(n), B.dims.size()));
  if (B.dims[0] == 0 || B.dims[1] == 0) fail(fmt::format("{}: its weight has shape [{},{}]", node_text(n), B.dims[0], B.dims[1]));
  const Eigen::Map<const RowMat<double>> b_mat(B.values.data(), static_cast<Index>(B.dims[0]), static_cast<Index>(B.dims[1]));
  Linear lin;
  lin.W = b_mat.transpose();
  lin.b = Vec<double>::Zero(lin.W.rows());
  lin.name = n.inputs[1];
  lin.from_matmul = true;
  check_in_width(n, lin.W.cols());
  if (pending_) emit(*find_activation("identity"), 0);
  width_ = lin.W.rows();
  pending_ = std::move(lin);
}

void Mapper::add(const OnnxNode& n) {
  const std::string& other = n.inputs.size() == 2 ? (n.inputs[0] == cur_ ? n.inputs[1] : n.inputs[0]) : "";
  auto it = g_.initializers.find(other);
  if (!pending_ || !pending_->from_matmul || pending_->has_bias || it == g_.initializers.end())
    fail(fmt::format("{}: gradflow reads Add only as the bias of the MatMul before it; skip connections are not "
                     "supported yet",
                     node_text(n)));
  const OnnxTensor& C = it->second;
  const Index out = pending_->W.rows();
  const bool vector = (C.dims.size() == 1 && C.dims[0] == out) || (C.dims.size() == 2 && C.dims[0] == 1 && C.dims[1] == out);
  if (!vector)
    fail(fmt::format("{}: the bias has shape [{}]; gradflow reads a bias of [{}] (one per output)", node_text(n),
                     fmt::join(C.dims, ","), out));
  pending_->b = Eigen::Map<const Vec<double>>(C.values.data(), out);
  pending_->has_bias = true;
}

void Mapper::activation(const OnnxNode& n, const OnnxActivation& a) {
  if (!pending_)
    fail(fmt::format("{} follows no Gemm or MatMul; gradflow reads a linear layer, then its activation", node_text(n)));
  double param = 0;
  const std::string op = n.op_type;
  if (op == "LeakyRelu") param = attr_f(n, "alpha", 0.01);
  if (op == "Elu" && attr_f(n, "alpha", 1.0) != 1.0)
    fail(fmt::format("{}: alpha = {:g}; gradflow's elu has alpha 1", node_text(n), attr_f(n, "alpha", 1.0)));
  if (op == "Selu" && (std::abs(attr_f(n, "alpha", kSeluAlpha) - kSeluAlpha) > 1e-6 ||
                       std::abs(attr_f(n, "gamma", kSeluGamma) - kSeluGamma) > 1e-6))
    fail(fmt::format("{}: alpha and gamma differ from Klambauer et al.'s constants, which gradflow's selu uses",
                     node_text(n)));
  if (op == "Gelu") {
    auto it = n.attributes.find("approximate");
    if (it != n.attributes.end() && it->second.s != "none")
      fail(fmt::format("{}: approximate = '{}'; gradflow's gelu is the exact erf form", node_text(n), it->second.s));
  }
  emit(*find_activation(a.activation), param);
}

std::vector<double> Mapper::constant_values(const std::string& tensor) const {
  if (auto it = g_.initializers.find(tensor); it != g_.initializers.end()) return it->second.values;
  for (const OnnxNode& c : g_.nodes)
    if (c.op_type == "Constant" && c.outputs.size() == 1 && c.outputs[0] == tensor)
      if (auto v = c.attributes.find("value"); v != c.attributes.end() && v->second.t) return v->second.t->values;
  return {};
}

bool Mapper::is_constant(const std::string& tensor, double value) const {
  const std::vector<double> v = constant_values(tensor);
  return v.size() == 1 && std::abs(v[0] - value) <= 1e-6 * std::abs(value);
}

// The one node reading `tensor`, if it is one and of type `op`; else npos.
std::size_t Mapper::sole_reader(const std::string& tensor, const char* op) const {
  auto it = readers_.find(tensor);
  if (it == readers_.end() || it->second.size() != 1 || g_.nodes[it->second[0]].op_type != op) return std::string::npos;
  return it->second[0];
}

// PyTorch's export of the exact GELU before opset 20: 0.5 * (x * (1 + erf(x / sqrt 2))), x read
// by the Div and the first Mul (in either order of their inputs). Returns the last Mul's output.
std::optional<std::string> Mapper::gelu_decomposition(const std::string& x, const std::vector<std::size_t>& two) {
  std::size_t div = std::string::npos, mul = std::string::npos;
  for (std::size_t k : two) {
    const OnnxNode& n = g_.nodes[k];
    if (n.op_type == "Div" && n.inputs.size() == 2 && n.inputs[0] == x && is_constant(n.inputs[1], std::sqrt(2.0))) div = k;
    if (n.op_type == "Mul" && n.inputs.size() == 2) mul = k;
  }
  if (div == std::string::npos || mul == std::string::npos || g_.nodes[div].outputs.empty()) return std::nullopt;
  const std::size_t erf = sole_reader(g_.nodes[div].outputs[0], "Erf");
  if (erf == std::string::npos || g_.nodes[erf].outputs.empty()) return std::nullopt;
  const std::size_t add = sole_reader(g_.nodes[erf].outputs[0], "Add");
  if (add == std::string::npos || g_.nodes[add].outputs.empty()) return std::nullopt;
  const OnnxNode& a = g_.nodes[add];
  if (a.inputs.size() != 2 || !is_constant(a.inputs[0] == g_.nodes[erf].outputs[0] ? a.inputs[1] : a.inputs[0], 1.0))
    return std::nullopt;
  const OnnxNode& m = g_.nodes[mul];
  const bool reads = (m.inputs[0] == x && m.inputs[1] == a.outputs[0]) || (m.inputs[1] == x && m.inputs[0] == a.outputs[0]);
  if (!reads || m.outputs.empty()) return std::nullopt;
  const std::size_t half = sole_reader(m.outputs[0], "Mul");
  if (half == std::string::npos || g_.nodes[half].outputs.empty()) return std::nullopt;
  const OnnxNode& h = g_.nodes[half];
  if (h.inputs.size() != 2 || !is_constant(h.inputs[0] == m.outputs[0] ? h.inputs[1] : h.inputs[0], 0.5))
    return std::nullopt;
  for (std::size_t k : {div, erf, add, mul, half}) {
    if (seen_[k]) fail(fmt::format("the graph has a cycle through {}", node_text(g_.nodes[k])));
    seen_[k] = true;
  }
  if (!pending_)
    fail(fmt::format("GELU at {} follows no Gemm or MatMul; gradflow reads a linear layer, then its activation",
                     node_text(g_.nodes[div])));
  emit(*find_activation("gelu"), 0);
  return h.outputs[0];
}

// A Reshape to [batch, width]: -1 or 0 first, the features second.
void Mapper::reshape(const OnnxNode& n) {
  const std::vector<double> shape = n.inputs.size() == 2 ? constant_values(n.inputs[1]) : std::vector<double>{};
  const bool keeps = shape.size() == 2 && (shape[0] == -1 || shape[0] == 0 || shape[0] > 0) &&
                     (shape[1] == static_cast<double>(width_) || (shape[1] == -1 && shape[0] >= 0));
  if (!keeps)
    fail(fmt::format("{}: gradflow reads a Reshape only to [batch, features] that keeps the feature vector "
                     "({} features); its shape is [{}]",
                     node_text(n), width_, fmt::join(shape, ",")));
}

GivenNetwork Mapper::run() {
  if (g_.inputs.size() != 1)
    fail(fmt::format("the graph has {} inputs that are not initializers; gradflow reads a model with one input",
                     g_.inputs.size()));
  if (g_.outputs.size() != 1)
    fail(fmt::format("the graph has {} outputs; gradflow reads a model with one output (the logits)", g_.outputs.size()));
  const OnnxValue& input = g_.inputs.front();
  if (input.dims.size() >= 2) {  // [batch, features...]: the features' product, if all are known
    std::int64_t n = 1;
    for (std::size_t k = 1; k < input.dims.size() && n >= 0; ++k)
      n = input.dims[k] < 0 || input.dims[k] > (std::int64_t{1} << 31) ? -1 : n * input.dims[k];
    if (n > (std::int64_t{1} << 31)) n = -1;
    width_ = static_cast<Index>(n);
  }
  // Which nodes read each tensor (initializers aside).
  std::map<std::string, std::vector<std::size_t>>& readers = readers_;
  for (std::size_t k = 0; k < g_.nodes.size(); ++k)
    for (const std::string& in : g_.nodes[k].inputs)
      if (!in.empty() && !g_.initializers.count(in)) readers[in].push_back(k);
  seen_.assign(g_.nodes.size(), false);
  std::vector<bool>& seen = seen_;
  std::string cur = input.name;
  Index input_width = width_;
  bool first_linear = true;
  for (;;) {
    auto it = readers.find(cur);
    const std::size_t count = it == readers.end() ? 0 : it->second.size();
    if (count == 0) {
      if (cur == g_.outputs.front()) break;
      fail(fmt::format("tensor '{}' is neither read by a node nor the graph's output", cur));
    }
    if (count == 2)
      if (std::optional<std::string> out = gelu_decomposition(cur, it->second)) {
        cur = *out;
        continue;
      }
    if (count > 1) {
      std::vector<std::string> names;
      for (std::size_t k : it->second) names.push_back(fmt::format("'{}' ({})", g_.nodes[k].name, g_.nodes[k].op_type));
      fail(fmt::format("tensor '{}' is read by {} nodes ({}); gradflow reads a chain of layers, and skip connections "
                       "are not supported yet",
                       cur, count, fmt::join(names, ", ")));
    }
    const std::size_t k = it->second.front();
    const OnnxNode& n = g_.nodes[k];
    if (seen[k]) fail(fmt::format("the graph has a cycle through {}", node_text(n)));
    seen[k] = true;
    cur_ = cur;
    if (n.outputs.empty() || n.outputs[0].empty()) fail(fmt::format("{} has no output", node_text(n)));
    if (n.op_type == "Gemm" || n.op_type == "MatMul") {
      if (n.inputs.empty() || n.inputs[0] != cur)
        fail(fmt::format("{}: the features must be its first input", node_text(n)));
      if (n.op_type == "Gemm") gemm(n); else matmul(n);
      if (first_linear) input_width = pending_->W.cols(), first_linear = false;
    } else if (n.op_type == "Add") {
      add(n);
    } else if (const OnnxActivation* a = find_onnx_activation(n.op_type)) {
      activation(n, *a);
    } else if (n.op_type == "Flatten") {
      if (attr_i(n, "axis", 1) != 1)
        fail(fmt::format("{}: axis = {}; gradflow reads Flatten with axis 1 (batch first)", node_text(n), attr_i(n, "axis", 1)));
    } else if (n.op_type == "Reshape") {
      reshape(n);
    } else if (n.op_type != "Identity" && n.op_type != "Dropout") {
      fail(fmt::format("{} is not supported; gradflow reads dense networks: {}", node_text(n), supported_onnx_ops()));
    }
    cur = n.outputs[0];
  }
  for (std::size_t k = 0; k < g_.nodes.size(); ++k)
    if (!seen[k] && g_.nodes[k].op_type != "Constant")
      fail(fmt::format("{} is not on the path from the input '{}' to the output '{}'", node_text(g_.nodes[k]),
                       input.name, g_.outputs.front()));
  if (!pending_)
    fail(fmt::format("the output '{}' is not a linear layer's: gradflow's head is the last Gemm or MatMul (the logits), "
                     "and --loss comes after it; drop a final activation or Softmax from the export",
                     cur));
  if (net_.ops.empty())
    fail("the model has one linear layer only; gradflow measures hidden layers, and the last Gemm or MatMul is the head");
  Linear& head = *pending_;
  net_.ops.push_back({OpKind::head, head.W.rows(), nullptr, 0});
  net_.names.push_back(head.name);
  net_.W.push_back(std::move(head.W));
  net_.b.push_back(std::move(head.b));
  net_.input_width = input_width;
  if (const std::optional<OpListError> e = check_ops(input_width, net_.ops))  // the one check of every op list
    fail(fmt::format("layer '{}': {}", net_.names[e->op], e->message));
  return std::move(net_);
}

}  // namespace

std::string supported_onnx_ops() {
  std::vector<std::string> ops{"Gemm", "MatMul (+ Add: its bias)"};
  for (const OnnxActivation& a : kActivations) ops.push_back(a.op);
  ops.push_back("GELU's erf form (Div, Erf, Add, Mul, Mul)");
  for (const char* op : kPassThrough) ops.push_back(op);
  return fmt::format("{}", fmt::join(ops, ", "));
}

GivenNetwork map_onnx(const OnnxGraph& g, const std::string& path) { return Mapper(g, path).run(); }

}  // namespace gf
