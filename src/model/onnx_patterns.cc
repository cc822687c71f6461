#include "model/onnx_patterns.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/errors.h"

namespace gf {

OnnxIndex::OnnxIndex(const OnnxGraph& graph, const std::string& file) : g(graph), path(file) {
  for (const auto& [name, t] : g.initializers) constants[name] = &t;
  // In graph order, so that an Identity of a Constant sees it (ONNX lists nodes topologically).
  for (const OnnxNode& n : g.nodes) {
    if (n.outputs.size() != 1) continue;
    if (n.op_type == "Constant")
      if (auto v = n.attributes.find("value"); v != n.attributes.end() && v->second.t) constants[n.outputs[0]] = &*v->second.t;
    if (n.op_type == "Identity" && n.inputs.size() == 1)
      if (const OnnxTensor* t = constant(n.inputs[0])) constants[n.outputs[0]] = t;
  }
  for (std::size_t k = 0; k < g.nodes.size(); ++k)
    for (const std::string& in : g.nodes[k].inputs)
      if (!in.empty() && !constants.count(in)) readers[in].push_back(k);
}

const OnnxTensor* OnnxIndex::constant(const std::string& tensor) const {
  auto it = constants.find(tensor);
  return it == constants.end() ? nullptr : it->second;
}

bool OnnxIndex::is_scalar(const std::string& tensor, double value) const {
  const OnnxTensor* t = constant(tensor);
  return t && t->values.size() == 1 && std::abs(t->values[0] - value) <= 1e-6 * std::abs(value);
}

std::size_t OnnxIndex::sole_reader(const std::string& tensor, const char* op) const {
  auto it = readers.find(tensor);
  if (it == readers.end() || it->second.size() != 1 || g.nodes[it->second[0]].op_type != op) return std::string::npos;
  return it->second[0];
}

bool OnnxIndex::is_constant_node(std::size_t k) const {
  const OnnxNode& n = g.nodes[k];
  return n.op_type == "Constant" || (n.op_type == "Identity" && n.outputs.size() == 1 && constant(n.outputs[0]));
}

std::string onnx_node_text(const OnnxNode& n) {
  if (!n.name.empty() || n.outputs.empty()) return fmt::format("node '{}' ({})", n.name, n.op_type);
  return fmt::format("the {} node writing '{}' (unnamed)", n.op_type, n.outputs[0]);  // older exporters name none
}

std::string OnnxIndex::node_text(std::size_t k) const { return onnx_node_text(g.nodes[k]); }

void OnnxIndex::fail(const std::string& what) const { throw UsageError(fmt::format("--model: '{}': {}", path, what)); }

namespace {

constexpr std::size_t npos = std::string::npos;

// The input of binary node n that is not `a` ("" when n does not read `a` or is not binary).
std::string other_input(const OnnxNode& n, const std::string& a) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == a) return n.inputs[1];
  if (n.inputs[1] == a) return n.inputs[0];
  return "";
}

bool has_output(const OnnxNode& n) { return !n.outputs.empty() && !n.outputs[0].empty(); }

// Of the two readers, the one of type `op` (npos if neither or both).
std::size_t reader_of_type(const OnnxIndex& ix, const std::vector<std::size_t>& readers, const char* op) {
  std::size_t found = npos;
  for (std::size_t k : readers)
    if (ix.g.nodes[k].op_type == op) {
      if (found != npos) return npos;
      found = k;
    }
  return found;
}

}  // namespace

std::optional<PatternMatch> match_gelu(const OnnxIndex& ix, const std::string& x, const std::vector<std::size_t>& readers) {
  if (readers.size() != 2) return std::nullopt;
  const std::vector<OnnxNode>& nodes = ix.g.nodes;
  std::size_t div = npos, mul = npos;
  for (std::size_t k : readers) {
    const OnnxNode& n = nodes[k];
    if (n.op_type == "Div" && n.inputs.size() == 2 && n.inputs[0] == x && ix.is_scalar(n.inputs[1], std::sqrt(2.0))) div = k;
    if (n.op_type == "Mul" && n.inputs.size() == 2) mul = k;
  }
  if (div == npos || mul == npos || !has_output(nodes[div])) return std::nullopt;
  const std::size_t erf = ix.sole_reader(nodes[div].outputs[0], "Erf");
  if (erf == npos || !has_output(nodes[erf])) return std::nullopt;
  const std::size_t add = ix.sole_reader(nodes[erf].outputs[0], "Add");
  if (add == npos || !has_output(nodes[add]) || !ix.is_scalar(other_input(nodes[add], nodes[erf].outputs[0]), 1.0))
    return std::nullopt;
  const OnnxNode& m = nodes[mul];
  if (other_input(m, x) != nodes[add].outputs[0] || !has_output(m)) return std::nullopt;
  const std::size_t half = ix.sole_reader(m.outputs[0], "Mul");
  if (half == npos || !has_output(nodes[half]) || !ix.is_scalar(other_input(nodes[half], m.outputs[0]), 0.5))
    return std::nullopt;
  return PatternMatch{{div, erf, add, mul, half}, nodes[half].outputs[0]};
}

std::optional<PatternMatch> match_softsign(const OnnxIndex& ix, const std::string& x,
                                           const std::vector<std::size_t>& readers) {
  if (readers.size() != 2) return std::nullopt;
  const std::vector<OnnxNode>& nodes = ix.g.nodes;
  const std::size_t abs = reader_of_type(ix, readers, "Abs"), div = reader_of_type(ix, readers, "Div");
  if (abs == npos || div == npos || !has_output(nodes[abs]) || !has_output(nodes[div])) return std::nullopt;
  const std::size_t add = ix.sole_reader(nodes[abs].outputs[0], "Add");
  if (add == npos || !has_output(nodes[add]) || !ix.is_scalar(other_input(nodes[add], nodes[abs].outputs[0]), 1.0))
    return std::nullopt;
  const OnnxNode& d = nodes[div];
  if (d.inputs.size() != 2 || d.inputs[0] != x || d.inputs[1] != nodes[add].outputs[0]) return std::nullopt;
  return PatternMatch{{abs, add, div}, d.outputs[0]};
}

std::optional<PatternMatch> match_silu(const OnnxIndex& ix, const std::string& x, const std::vector<std::size_t>& readers) {
  if (readers.size() != 2) return std::nullopt;
  const std::vector<OnnxNode>& nodes = ix.g.nodes;
  const std::size_t sig = reader_of_type(ix, readers, "Sigmoid"), mul = reader_of_type(ix, readers, "Mul");
  if (sig == npos || mul == npos || !has_output(nodes[sig]) || !has_output(nodes[mul])) return std::nullopt;
  if (other_input(nodes[mul], x) != nodes[sig].outputs[0]) return std::nullopt;
  return PatternMatch{{sig, mul}, nodes[mul].outputs[0]};
}

namespace {

// A ReduceMean over the last axis of [batch, features], keeping it: axes [-1] or [1], as an
// attribute (opset < 18) or its second input (18).
bool reduces_last_axis(const OnnxIndex& ix, const OnnxNode& n) {
  std::vector<std::int64_t> axes;
  if (auto a = n.attributes.find("axes"); a != n.attributes.end()) axes = a->second.ints;
  if (n.inputs.size() == 2)
    if (const OnnxTensor* t = ix.constant(n.inputs[1]); t && t->values.size() == 1) axes = {static_cast<std::int64_t>(t->values[0])};
  auto keep = n.attributes.find("keepdims");
  const bool keepdims = keep == n.attributes.end() || !keep->second.i || *keep->second.i != 0;
  return keepdims && axes.size() == 1 && (axes[0] == -1 || axes[0] == 1);
}

}  // namespace

std::optional<LayerNormMatch> match_layer_norm(const OnnxIndex& ix, const std::string& x,
                                               const std::vector<std::size_t>& readers) {
  const std::vector<OnnxNode>& nodes = ix.g.nodes;
  const std::size_t mean = reader_of_type(ix, readers, "ReduceMean"), sub = reader_of_type(ix, readers, "Sub");
  if (readers.size() != 2 || mean == npos || sub == npos || !has_output(nodes[mean]) || !has_output(nodes[sub]) ||
      nodes[sub].inputs.size() != 2 || nodes[sub].inputs[0] != x || nodes[sub].inputs[1] != nodes[mean].outputs[0])
    return std::nullopt;
  // From here on it is a LayerNorm or a refusal.
  const auto differs = [&](std::size_t k, const std::string& what) {
    ix.fail(fmt::format("{}: this looks like LayerNorm's decomposition (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, "
                        "Sqrt, Div, Mul gain, Add bias, over the last axis) but differs here: {}",
                        ix.node_text(k), what));
  };
  if (!reduces_last_axis(ix, nodes[mean])) differs(mean, "it does not reduce over the last axis keeping it");
  const std::string& centred = nodes[sub].outputs[0];
  auto it = ix.readers.find(centred);
  const std::vector<std::size_t> two = it == ix.readers.end() ? std::vector<std::size_t>{} : it->second;
  const std::size_t pow = reader_of_type(ix, two, "Pow"), div = reader_of_type(ix, two, "Div");
  if (two.size() != 2 || pow == npos || div == npos)
    differs(sub, "its output must be read by one Pow and one Div, nothing else");
  const OnnxNode& p = nodes[pow];
  if (p.inputs.size() != 2 || p.inputs[0] != centred || !ix.is_scalar(p.inputs[1], 2.0) || !has_output(p))
    differs(pow, "the exponent is not the constant 2");
  const std::size_t var = ix.sole_reader(p.outputs[0], "ReduceMean");
  if (var == npos || !has_output(nodes[var])) differs(pow, "its output must be read by one ReduceMean only");
  if (!reduces_last_axis(ix, nodes[var])) differs(var, "it does not reduce over the last axis keeping it");
  const std::size_t add = ix.sole_reader(nodes[var].outputs[0], "Add");
  if (add == npos || !has_output(nodes[add])) differs(var, "its output must be read by one Add (of eps) only");
  const OnnxTensor* eps = ix.constant(other_input(nodes[add], nodes[var].outputs[0]));
  if (!eps || eps->values.size() != 1 || !(eps->values[0] > 0)) differs(add, "it does not add a constant eps > 0");
  const std::size_t sqrt = ix.sole_reader(nodes[add].outputs[0], "Sqrt");
  if (sqrt == npos || !has_output(nodes[sqrt])) differs(add, "its output must be read by one Sqrt only");
  const OnnxNode& d = nodes[div];
  if (d.inputs.size() != 2 || d.inputs[1] != nodes[sqrt].outputs[0] || !has_output(d))
    differs(div, "it must divide the centred input by the Sqrt");
  LayerNormMatch out;
  out.eps = eps->values[0];
  out.match.nodes = {mean, sub, pow, var, add, sqrt, div};
  out.match.output = d.outputs[0];
  // The affine part, each optional: Mul by a constant gain, then Add of a constant bias.
  if (const std::size_t mul = ix.sole_reader(out.match.output, "Mul"); mul != npos && has_output(nodes[mul]))
    if (const OnnxTensor* g = ix.constant(other_input(nodes[mul], out.match.output))) {
      out.gain = g;
      out.match.nodes.push_back(mul);
      out.match.output = nodes[mul].outputs[0];
    }
  if (const std::size_t add_b = ix.sole_reader(out.match.output, "Add"); add_b != npos && has_output(nodes[add_b]))
    if (const OnnxTensor* b = ix.constant(other_input(nodes[add_b], out.match.output))) {
      out.bias = b;
      out.match.nodes.push_back(add_b);
      out.match.output = nodes[add_b].outputs[0];
    }
  return out;
}

}  // namespace gf
