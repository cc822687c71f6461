#include "model/onnx_map.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>
#include <optional>
#include <utility>

#include "base/errors.h"
#include "core/activation.h"
#include "model/onnx_patterns.h"

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
constexpr std::size_t kNoNode = std::string::npos;

// A norm as gradflow's ops hold it (LayerOp::norm, norm_eps; Params::gain, shift).
struct Norm {
  NormKind kind = NormKind::none;
  double eps = 1e-5;
  Vec<double> gain, shift;
  std::string node;  // its node, for messages
};

class Mapper {
 public:
  Mapper(const OnnxGraph& g, const std::string& path, BnMode bn) : ix_(g, path), g_(g), bn_(bn) {}

  GivenNetwork run();

 private:
  struct Linear {
    RowMat<double> W;
    Vec<double> b;
    std::string name;
    bool from_matmul = false, has_bias = false;
    std::optional<Norm> norm;  // between the product and the activation (dense_norm)
  };
  // A residual block being walked: opened where a tensor (the stream) is read by an Add and by
  // the branch, closed when the branch reaches that Add.
  struct Block {
    std::size_t add = 0;
    std::string stream;
    std::size_t first_op = 0;  // net_.ops.size() when it opened: its branch_in's index
    Index number = 0, width = -1;
    std::optional<Norm> pre;
    std::optional<double> alpha;  // s + alpha F(s): a Mul by a scalar before the Add; none = 1
  };

  [[noreturn]] void fail(const std::string& what) const { ix_.fail(what); }
  std::string node_text(const OnnxNode& n) const { return onnx_node_text(n); }
  const OnnxTensor& weight(const OnnxNode& n, std::size_t input) const;
  double attr_f(const OnnxNode& n, const char* key, double fallback) const;
  std::int64_t attr_i(const OnnxNode& n, const char* key, std::int64_t fallback) const;
  void check_in_width(const OnnxNode& n, Index in) const;
  void append(const LayerOp& op, Linear& p, std::optional<Norm> norm);
  void emit(const Activation& act, double param);
  void gemm(const OnnxNode& n);
  void matmul(const OnnxNode& n);
  void add(const OnnxNode& n, std::size_t k);
  void mul(const OnnxNode& n);
  void require_linear(const std::string& what) const;
  void activation(const OnnxNode& n, const OnnxActivation& a);
  void clip(const OnnxNode& n);
  void reshape(const OnnxNode& n);
  Vec<double> per_unit(const OnnxTensor* t, const std::string& node, const char* what, double fallback);
  Norm layer_norm(const OnnxNode& n);
  Norm batch_norm(const OnnxNode& n);
  void place_norm(Norm norm);
  std::size_t skip_add_of(const std::string& x, const std::vector<std::size_t>& readers) const;
  void open_block(std::size_t add, const std::string& stream);
  void close_block(const OnnxNode& n);
  void take(const std::vector<std::size_t>& nodes);

  OnnxIndex ix_;
  const OnnxGraph& g_;
  BnMode bn_;
  GivenNetwork net_;
  std::optional<Linear> pending_;  // the linear layer whose activation comes next
  Index width_ = -1;               // the feature vector's width where the walk is; -1 unknown
  std::string cur_;                // the tensor the node in hand reads
  std::optional<Block> block_;
  Index blocks_ = 0;
  std::string block_out_;  // the tensor the last block's Add wrote (a post-norm may read it)
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
  const OnnxTensor* t = n.inputs.size() > input ? ix_.constant(n.inputs[input]) : nullptr;
  if (!t)
    fail(fmt::format("{}: input {} is not an initializer; gradflow reads weights stored in the model", node_text(n),
                     input + 1));
  return *t;
}

void Mapper::check_in_width(const OnnxNode& n, Index in) const {
  if (width_ >= 0 && in != width_)
    fail(fmt::format("{}: its weight has {} inputs, but {} features reach it", node_text(n), in, width_));
}

void Mapper::append(const LayerOp& op, Linear& p, std::optional<Norm> norm) {
  net_.ops.push_back(op);
  net_.names.push_back(p.name);
  net_.W.push_back(std::move(p.W));
  net_.b.push_back(std::move(p.b));
  net_.gain.push_back(norm ? std::move(norm->gain) : Vec<double>());
  net_.shift.push_back(norm ? std::move(norm->shift) : Vec<double>());
}

// The pending linear layer becomes a hidden layer with `act` after it: dense, dense_norm, or in
// a block its branch_in (carrying the block's pre-norm) or one of its inner dense layers.
void Mapper::emit(const Activation& act, double param) {
  Linear& p = *pending_;
  LayerOp op{OpKind::dense, p.W.rows(), &act, param};
  std::optional<Norm> norm = std::exchange(p.norm, std::nullopt);
  if (block_) {
    if (norm)
      fail(fmt::format("{}: a norm inside a residual branch (after '{}'); gradflow's residual blocks carry a norm "
                       "before the branch (pre-norm) or after the sum (post-norm) only",
                       norm->node, p.name));
    op.block = block_->number;
    if (net_.ops.size() == block_->first_op) {
      op.kind = OpKind::branch_in;
      norm = std::exchange(block_->pre, std::nullopt);
    }
  } else if (norm) {
    op.kind = OpKind::dense_norm;
  }
  if (norm) op.norm = norm->kind, op.norm_eps = norm->eps;
  append(op, p, std::move(norm));
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

// The bias of the MatMul before it, or the Add closing the residual block being walked.
void Mapper::add(const OnnxNode& n, std::size_t k) {
  if (block_ && k == block_->add) return close_block(n);
  const std::string& other = n.inputs.size() == 2 ? (n.inputs[0] == cur_ ? n.inputs[1] : n.inputs[0]) : "";
  const OnnxTensor* C = ix_.constant(other);
  if (!pending_ || !pending_->from_matmul || pending_->has_bias || pending_->norm || !C)
    fail(fmt::format("{}: gradflow reads Add as the bias of the MatMul before it, or as a skip connection (the sum of "
                     "a tensor and a branch computed from it); this one is neither",
                     node_text(n)));
  const Index out = pending_->W.rows();
  const bool vector = (C->dims.size() == 1 && C->dims[0] == out) || (C->dims.size() == 2 && C->dims[0] == 1 && C->dims[1] == out);
  if (!vector)
    fail(fmt::format("{}: the bias has shape [{}]; gradflow reads a bias of [{}] (one per output)", node_text(n),
                     fmt::join(C->dims, ","), out));
  pending_->b = Eigen::Map<const Vec<double>>(C->values.data(), out);
  pending_->has_bias = true;
}

// s + c F(s): the branch's scale (a fixed 1/sqrt(blocks), or ReZero's learned scalar,
// Bachlechner et al. 2020), a scalar constant times the branch's last linear layer, summed by
// the skip connection's Add. Kept as the block's alpha, not folded into W_K: the gradient with
// respect to W_K is alpha times what it would be with respect to alpha W_K.
void Mapper::mul(const OnnxNode& n) {
  const std::string& other = n.inputs.size() == 2 ? (n.inputs[0] == cur_ ? n.inputs[1] : n.inputs[0]) : "";
  const OnnxTensor* c = ix_.constant(other);
  auto it = n.outputs.empty() ? ix_.readers.end() : ix_.readers.find(n.outputs[0]);
  const bool feeds_add = block_ && it != ix_.readers.end() && it->second == std::vector<std::size_t>{block_->add};
  if (!c || c->values.size() != 1 || !pending_ || pending_->norm || !feeds_add || block_->alpha)
    fail(fmt::format("{}: gradflow reads Mul as a residual branch's scale, s + c F(s): a scalar constant times the "
                     "branch's last linear layer, read by the skip connection's Add; this one is not",
                     node_text(n)));
  if (!std::isfinite(c->values[0])) fail(fmt::format("{}: the branch's scale is {}", node_text(n), c->values[0]));
  block_->alpha = c->values[0];
}

void Mapper::require_linear(const std::string& what) const {
  if (pending_) return;
  if (!block_out_.empty() && cur_ == block_out_)
    fail(fmt::format("{} follows a skip connection's sum (phi(s + F(s)), the original ResNet's form); gradflow's "
                     "residual blocks apply no activation after the sum, s' = s + F(s)",
                     what));
  fail(fmt::format("{} follows no Gemm or MatMul; gradflow reads a linear layer, then its activation", what));
}

void Mapper::activation(const OnnxNode& n, const OnnxActivation& a) {
  require_linear(node_text(n));
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

// Clip(x, min, max) (min and max as inputs from opset 11, attributes before; PyTorch's Hardtanh):
// gradflow's hard_tanh is clip(x, -1, 1).
void Mapper::clip(const OnnxNode& n) {
  require_linear(node_text(n));
  const auto bound = [&](std::size_t input, const char* attr, double fallback) {
    if (n.inputs.size() > input && !n.inputs[input].empty()) {
      const OnnxTensor* t = ix_.constant(n.inputs[input]);
      if (!t || t->values.size() != 1)
        fail(fmt::format("{}: its {} is not a constant scalar", node_text(n), input == 1 ? "min" : "max"));
      return t->values[0];
    }
    return attr_f(n, attr, fallback);
  };
  const double lo = bound(1, "min", -std::numeric_limits<double>::infinity()),
               hi = bound(2, "max", std::numeric_limits<double>::infinity());
  if (lo != -1.0 || hi != 1.0)
    fail(fmt::format("{}: min = {:g}, max = {:g}; gradflow reads Clip as hard_tanh, clip(x, -1, 1), only", node_text(n),
                     lo, hi));
  emit(*find_activation("hard_tanh"), 0);
}

// A Reshape to [batch, width]: -1 or 0 first, the features second.
void Mapper::reshape(const OnnxNode& n) {
  const OnnxTensor* t = n.inputs.size() == 2 ? ix_.constant(n.inputs[1]) : nullptr;
  const std::vector<double> shape = t ? t->values : std::vector<double>{};
  const bool keeps = shape.size() == 2 && (shape[0] == -1 || shape[0] == 0 || shape[0] > 0) &&
                     (shape[1] == static_cast<double>(width_) || (shape[1] == -1 && shape[0] >= 0));
  if (!keeps)
    fail(fmt::format("{}: gradflow reads a Reshape only to [batch, features] that keeps the feature vector "
                     "({} features); its shape is [{}]",
                     node_text(n), width_, fmt::join(shape, ",")));
}

// A norm's per-unit vector: t's values (fallback everywhere without t), one per feature.
Vec<double> Mapper::per_unit(const OnnxTensor* t, const std::string& node, const char* what, double fallback) {
  if (!t) {
    if (width_ < 0) fail(fmt::format("{}: the number of features reaching it is not known", node));
    return Vec<double>::Constant(width_, fallback);
  }
  const Index n = static_cast<Index>(t->values.size());
  if (t->dims.size() != 1 || (width_ >= 0 && n != width_) || n == 0)
    fail(fmt::format("{}: its {} has shape [{}]; gradflow reads one per feature ([{}])", node, what,
                     fmt::join(t->dims, ","), width_));
  width_ = n;
  return Eigen::Map<const Vec<double>>(t->values.data(), n);
}

// LayerNormalization (opset 17) over the last axis: (x - mean) / sqrt(var + eps) * Scale + B.
Norm Mapper::layer_norm(const OnnxNode& n) {
  const std::int64_t axis = attr_i(n, "axis", -1);
  if (axis != -1 && axis != 1)
    fail(fmt::format("{}: axis = {}; gradflow normalises over the features, the last axis of [batch, features]",
                     node_text(n), axis));
  for (std::size_t o = 1; o < n.outputs.size(); ++o)
    if (!n.outputs[o].empty() && ix_.readers.count(n.outputs[o]))
      fail(fmt::format("{}: its mean or inverse deviation output is read; gradflow reads its first output only",
                       node_text(n)));
  Norm norm{NormKind::layer, attr_f(n, "epsilon", 1e-5), {}, {}, node_text(n)};
  norm.gain = per_unit(n.inputs.size() > 1 ? &weight(n, 1) : nullptr, norm.node, "scale", 1.0);
  norm.shift = per_unit(n.inputs.size() > 2 && !n.inputs[2].empty() ? &weight(n, 2) : nullptr, norm.node, "bias", 0.0);
  return norm;
}

// BatchNormalization(X, scale, B, mean, var) per feature. Running statistics: the map is
// u = scale (h - mean) / sqrt(var + eps) + B = g h + beta with g = scale / sqrt(var + eps),
// beta = B - g mean (NormKind::affine). Batch statistics (--bn-mode batch): NormKind::batch,
// gain scale and shift B, as PyTorch's training-mode forward normalises (biased variance).
Norm Mapper::batch_norm(const OnnxNode& n) {
  if (attr_i(n, "training_mode", 0) != 0 || n.outputs.size() > 1)
    fail(fmt::format("{}: training_mode = 1 (it updates running statistics); export the model in inference mode "
                     "(model.eval()), and give --bn-mode batch to read it with batch statistics",
                     node_text(n)));
  Norm norm{bn_ == BnMode::batch ? NormKind::batch : NormKind::affine, attr_f(n, "epsilon", 1e-5), {}, {}, node_text(n)};
  for (std::size_t input = 1; input < 5; ++input) weight(n, input);  // each an initializer
  const Vec<double> scale = per_unit(&weight(n, 1), norm.node, "scale", 1), bias = per_unit(&weight(n, 2), norm.node, "B", 0),
                    mean = per_unit(&weight(n, 3), norm.node, "mean", 0), var = per_unit(&weight(n, 4), norm.node, "var", 1);
  if (bn_ == BnMode::batch) {
    norm.gain = scale;
    norm.shift = bias;
    return norm;
  }
  if (!((var.array() + norm.eps).minCoeff() > 0))
    fail(fmt::format("{}: a running variance + eps is not positive", node_text(n)));
  norm.gain = scale.array() / (var.array() + norm.eps).sqrt();
  norm.shift = bias.array() - norm.gain.array() * mean.array();
  return norm;
}

// Where a norm goes: after the pending linear layer (dense_norm: h -> N(h) -> phi), at the start
// of the block just opened (pre-norm), or after the block just closed (post-norm).
void Mapper::place_norm(Norm norm) {
  if (pending_) {
    if (pending_->norm) fail(fmt::format("{}: a second norm after '{}'", norm.node, pending_->name));
    pending_->norm = std::move(norm);
    return;
  }
  if (block_ && cur_ == block_->stream && net_.ops.size() == block_->first_op && !block_->pre) {
    block_->pre = std::move(norm);
    return;
  }
  if (!block_ && !block_out_.empty() && cur_ == block_out_ && net_.ops.back().norm == NormKind::none) {
    LayerOp& op = net_.ops.back();
    const Index stream = op.stream;
    if (net_.ops[static_cast<std::size_t>(stream)].norm != NormKind::none)
      fail(fmt::format("{}: a norm after block {}, whose branch starts with a norm too (a pre-norm network's final "
                       "norm, say); gradflow's residual blocks carry one or the other",
                       norm.node, op.block));
    op.norm = norm.kind;
    op.norm_eps = norm.eps;
    net_.gain.back() = std::move(norm.gain);
    net_.shift.back() = std::move(norm.shift);
    return;
  }
  fail(fmt::format("{}: gradflow reads a norm right after a Gemm or MatMul (before its activation), at the start of a "
                   "residual branch (pre-norm) or right after a skip connection's Add (post-norm); this one reads "
                   "'{}'",
                   norm.node, cur_));
}

// Of the nodes reading x, the Add that sums x with another computed tensor (a skip
// connection); kNoNode if none.
std::size_t Mapper::skip_add_of(const std::string& x, const std::vector<std::size_t>& readers) const {
  std::size_t found = kNoNode;
  for (std::size_t k : readers) {
    const OnnxNode& n = g_.nodes[k];
    if (n.op_type != "Add" || n.inputs.size() != 2) continue;
    if (n.inputs[0] == x && n.inputs[1] == x) fail(fmt::format("{}: adds '{}' to itself", node_text(n), x));
    const std::string& other = n.inputs[0] == x ? n.inputs[1] : n.inputs[0];
    if (ix_.constant(other)) continue;
    if (found != kNoNode)
      fail(fmt::format("tensor '{}' is summed by two Adds ({} and {}); gradflow reads one skip connection per block", x,
                       node_text(g_.nodes[found]), node_text(n)));
    found = k;
  }
  return found;
}

void Mapper::open_block(std::size_t add, const std::string& stream) {
  if (block_)
    fail(fmt::format("{}: a skip connection inside the residual branch that {} closes; gradflow's residual blocks do "
                     "not nest",
                     node_text(g_.nodes[add]), node_text(g_.nodes[block_->add])));
  if (pending_) emit(*find_activation("identity"), 0);  // the stream is a linear layer's output
  block_ = Block{add, stream, net_.ops.size(), ++blocks_, width_, std::nullopt, std::nullopt};
}

// The Add s + F(s): the pending linear layer is the branch's last (skip_add).
void Mapper::close_block(const OnnxNode& n) {
  const Block& b = *block_;
  const std::string from = fmt::format("the residual branch from '{}' (summed by {})", b.stream, node_text(n));
  if (!pending_)
    fail(fmt::format("{} ends with an activation; gradflow's residual block s' = s + F(s) is K >= 2 dense layers with "
                     "an activation after each but the last, which is linear (He et al. 2016's basic block)",
                     from));
  if (net_.ops.size() == b.first_op)
    fail(fmt::format("{} is one linear layer ('{}'); gradflow's residual blocks have K >= 2 dense layers, F(s) = "
                     "W_2 phi(W_1 s + b_1) + b_2",
                     from, pending_->name));
  if (pending_->norm)
    fail(fmt::format("{}: a norm inside a residual branch (after '{}', its last layer); gradflow's residual blocks "
                     "carry a norm before the branch (pre-norm) or after the sum (post-norm) only",
                     pending_->norm->node, pending_->name));
  if (b.width >= 0 && pending_->W.rows() != b.width)
    fail(fmt::format("{}: adds the branch's {} features to the stream's {}", node_text(n), pending_->W.rows(), b.width));
  LayerOp op{OpKind::skip_add, pending_->W.rows(), find_activation("identity"), 0, b.number,
             static_cast<Index>(b.first_op), b.alpha.value_or(1.0)};
  append(op, *pending_, std::nullopt);
  pending_.reset();
  block_out_ = n.outputs[0];
  block_.reset();
}

// The nodes of a matched form are walked: each once (a second visit is a cycle).
void Mapper::take(const std::vector<std::size_t>& nodes) {
  for (std::size_t k : nodes) {
    if (seen_[k]) fail(fmt::format("the graph has a cycle through {}", node_text(g_.nodes[k])));
    seen_[k] = true;
  }
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
  seen_.assign(g_.nodes.size(), false);
  std::string cur = input.name;
  Index input_width = width_;
  bool first_linear = true;
  for (;;) {
    auto it = ix_.readers.find(cur);
    std::vector<std::size_t> readers = it == ix_.readers.end() ? std::vector<std::size_t>{} : it->second;
    if (block_ && cur == block_->stream) std::erase(readers, block_->add);
    if (readers.empty()) {
      if (block_)
        fail(fmt::format("{}: the skip connection's Add is not reached from the branch that starts at '{}'",
                         node_text(g_.nodes[block_->add]), block_->stream));
      if (cur == g_.outputs.front()) break;
      fail(fmt::format("tensor '{}' is neither read by a node nor the graph's output", cur));
    }
    cur_ = cur;
    if (readers.size() >= 2)
      if (const std::size_t add = skip_add_of(cur, readers); add != kNoNode) {
        open_block(add, cur);
        std::erase(readers, add);
        if (seen_[add]) fail(fmt::format("the graph has a cycle through {}", node_text(g_.nodes[add])));
      }
    if (readers.size() >= 2) {
      if (std::optional<LayerNormMatch> ln = match_layer_norm(ix_, cur, readers)) {
        take(ln->match.nodes);
        const std::string node = ix_.node_text(ln->match.nodes.front()) + ", LayerNorm's decomposition";
        Norm norm{NormKind::layer, ln->eps, per_unit(ln->gain, node, "gain", 1.0), per_unit(ln->bias, node, "bias", 0.0), node};
        place_norm(std::move(norm));
        cur = ln->match.output;
        continue;
      }
      const struct {
        std::optional<PatternMatch> (*match)(const OnnxIndex&, const std::string&, const std::vector<std::size_t>&);
        const char* activation;
        const char* form;
      } forms[] = {{match_gelu, "gelu", "GELU's erf form"}, {match_softsign, "softsign", "Softsign's form x/(1+|x|)"},
                   {match_silu, "silu", "SiLU's form x*sigmoid(x)"}};
      bool matched = false;
      for (const auto& f : forms)
        if (std::optional<PatternMatch> m = f.match(ix_, cur, readers)) {
          take(m->nodes);
          require_linear(fmt::format("{} at {}", f.form, ix_.node_text(m->nodes.front())));
          emit(*find_activation(f.activation), 0);
          cur = m->output;
          matched = true;
          break;
        }
      if (matched) continue;
      std::vector<std::string> names;
      for (std::size_t k : readers) names.push_back(fmt::format("'{}' ({})", g_.nodes[k].name, g_.nodes[k].op_type));
      fail(fmt::format("tensor '{}' is read by {} nodes ({}); gradflow reads a chain of layers and residual blocks (a "
                       "tensor read by a branch and by the Add that sums it with the branch's output)",
                       cur, readers.size(), fmt::join(names, ", ")));
    }
    const std::size_t k = readers.front();
    const OnnxNode& n = g_.nodes[k];
    take({k});
    if (n.outputs.empty() || n.outputs[0].empty()) fail(fmt::format("{} has no output", node_text(n)));
    if (n.op_type == "Gemm" || n.op_type == "MatMul") {
      if (n.inputs.empty() || n.inputs[0] != cur)
        fail(fmt::format("{}: the features must be its first input", node_text(n)));
      if (n.op_type == "Gemm") gemm(n); else matmul(n);
      if (first_linear) input_width = pending_->W.cols(), first_linear = false;
    } else if (n.op_type == "Add") {
      add(n, k);
    } else if (n.op_type == "Mul") {
      mul(n);
    } else if (const OnnxActivation* a = find_onnx_activation(n.op_type)) {
      activation(n, *a);
    } else if (n.op_type == "Clip") {
      clip(n);
    } else if (n.op_type == "LayerNormalization") {
      place_norm(layer_norm(n));
    } else if (n.op_type == "BatchNormalization") {
      place_norm(batch_norm(n));
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
    if (!seen_[k] && !ix_.is_constant_node(k))
      fail(fmt::format("{} is not on the path from the input '{}' to the output '{}'", node_text(g_.nodes[k]),
                       input.name, g_.outputs.front()));
  if (!pending_)
    fail(fmt::format("the output '{}' is not a linear layer's: gradflow's head is the last Gemm or MatMul (the logits), "
                     "and --loss comes after it; drop a final activation, norm or Softmax from the export",
                     cur));
  if (pending_->norm)
    fail(fmt::format("{}: a norm after the last Gemm or MatMul, which is the head (the logits); gradflow's head has "
                     "no norm",
                     pending_->norm->node));
  if (net_.ops.empty())
    fail("the model has one linear layer only; gradflow measures hidden layers, and the last Gemm or MatMul is the head");
  Linear& head = *pending_;
  append({OpKind::head, head.W.rows(), nullptr, 0}, head, std::nullopt);
  net_.input_width = input_width;
  if (const std::optional<OpListError> e = check_ops(input_width, net_.ops))  // the one check of every op list
    fail(fmt::format("layer '{}': {}", net_.names[e->op], e->message));
  return std::move(net_);
}

}  // namespace

std::string supported_onnx_ops() {
  std::vector<std::string> ops{"Gemm", "MatMul (+ Add: its bias)"};
  for (const OnnxActivation& a : kActivations) ops.push_back(a.op);
  ops.insert(ops.end(), {"Clip(-1, 1) (hard_tanh)", "the erf GELU, Softsign and SiLU forms of older exporters",
                         "Add (a skip connection: residual blocks of K >= 2 dense layers, the last linear)",
                         "Mul by a scalar before it (the branch's scale, s + c F(s))",
                         "LayerNormalization (and its decomposition)", "BatchNormalization"});
  for (const char* op : kPassThrough) ops.push_back(op);
  return fmt::format("{}", fmt::join(ops, ", "));
}

GivenNetwork map_onnx(const OnnxGraph& g, const std::string& path, BnMode bn) { return Mapper(g, path, bn).run(); }

}  // namespace gf
