#include "config/arch_file.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/fnv1a.h"
#include "base/json_io.h"
#include "base/real_text.h"
#include "base/suggest.h"
#include "core/enum_names.h"

namespace gf {

namespace {

using json = nlohmann::json;

struct Reader {
  std::string source;  // "--arch FILE"

  [[noreturn]] void fail(const std::string& where, const std::string& why) const {
    throw UsageError(fmt::format("{}: {}: {}", source, where, why));
  }

  void only_keys(const json& entry, const std::string& where, const std::vector<std::string>& allowed) const {
    if (!entry.is_object()) fail(where, "an entry is an object ({\"width\": 64, \"activation\": \"relu\"})");
    for (const auto& [key, value] : entry.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string hint = closest_name(key, allowed);
      fail(where, fmt::format("unknown key '{}'{} (allowed: {})", key,
                              hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint), fmt::join(allowed, ", ")));
    }
  }

  double number(const json& entry, const std::string& where, const char* key, double fallback, double lo, double hi,
                const char* allowed) const {
    if (!entry.contains(key)) return fallback;
    const json& v = entry.at(key);
    if (!v.is_number()) fail(where + "." + key, fmt::format("{} is not a number (allowed: {})", v.dump(), allowed));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) fail(where + "." + key, fmt::format("{} is out of range (allowed: {})", v.dump(), allowed));
    return x;
  }

  template <class E>
  E choice(const json& entry, const std::string& where, const char* key, E fallback,
           std::span<const EnumName<E>> table) const {
    if (!entry.contains(key)) return fallback;
    std::vector<std::string> names;
    for (const EnumName<E>& e : table) names.emplace_back(e.name);
    const json& v = entry.at(key);
    if (v.is_string())
      for (const EnumName<E>& e : table)
        if (v.get<std::string>() == e.name) return e.value;
    fail(where + "." + key, fmt::format("unknown value {} (allowed: {})", v.dump(), fmt::join(names, ", ")));
  }

  const Activation* activation(const json& entry, const std::string& where) const {
    if (!entry.contains("activation")) fail(where, "no \"activation\" (e.g. \"relu\")");
    const json& v = entry.at("activation");
    const Activation* act = v.is_string() ? find_activation(v.get<std::string>()) : nullptr;
    if (!act) {
      const std::vector<std::string> names = activation_names();
      const std::string hint = v.is_string() ? closest_name(v.get<std::string>(), names) : "";
      fail(where + ".activation", fmt::format("unknown value {}{} (allowed: {})", v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump(),
                                              hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                                              fmt::join(names, ", ")));
    }
    return act;
  }

  Index width(const json& entry, const std::string& where) const {
    if (!entry.contains("width")) fail(where, "no \"width\" (units, e.g. 256)");
    const json& v = entry.at("width");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > (1 << 20))
      fail(where + ".width", fmt::format("{} is not allowed (a whole number from 1 to {})", v.dump(), 1 << 20));
    return v.get<Index>();
  }

  // A dense layer; `last_of_block`: the linear end of a branch.
  LayerOp layer(const json& entry, const std::string& where, bool in_block, bool last_of_block) const {
    only_keys(entry, where, {"width", "activation", "activation-param", "norm", "norm-eps", "dropout"});
    LayerOp op;
    op.width = width(entry, where);
    op.activation = last_of_block && !entry.contains("activation") ? find_activation("identity") : activation(entry, where);
    if (last_of_block && op.activation->name != "identity")
      fail(where + ".activation", fmt::format("'{}': a block's last layer is linear (give identity, or nothing); put "
                                              "the activation in a layer of its own after the block",
                                              op.activation->name));
    op.activation_param = number(entry, where, "activation-param", 0.01, -INFINITY, INFINITY, "a number");
    op.dropout = number(entry, where, "dropout", 0, 0, 1, "0 <= p < 1");
    if (op.dropout == 1) fail(where + ".dropout", "1 drops every unit (allowed: 0 <= p < 1)");
    if (op.dropout != 0 && last_of_block)
      fail(where + ".dropout", "dropout follows an activation, and a block's last layer is linear");
    op.norm = choice(entry, where, "norm", NormKind::none, norm_kind_names());
    op.norm_eps = number(entry, where, "norm-eps", 1e-5, 0, INFINITY, "a number > 0");
    if (!(op.norm_eps > 0)) fail(where + ".norm-eps", "0 is not allowed (a number > 0)");
    if (op.norm != NormKind::none) {
      if (in_block) fail(where + ".norm", "a block's layers have no norm of their own: give the block's \"norm\"");
      op.kind = OpKind::dense_norm;
    }
    return op;
  }
};

// The flags that say the same network as `ops`, if there are such: c with them set.
bool as_flags(const std::vector<LayerOp>& ops, AnalysisConfig& c) {
  AnalysisConfig f = c;
  const LayerOp& first = ops.front();
  if (!first.activation || first.activation->name == "identity") return false;
  f.activations = {std::string(first.activation->name)};
  f.leaky_slope = first.activation_param;
  f.dropout = first.dropout;
  f.width.clear();
  const bool residual = first.kind == OpKind::branch_in;
  if (residual) {
    Index K = 1;
    while (K < static_cast<Index>(ops.size()) && ops[static_cast<std::size_t>(K - 1)].kind != OpKind::skip_add) ++K;
    const LayerOp& last = ops[static_cast<std::size_t>(K - 1)];
    if (last.kind != OpKind::skip_add || ops.size() % static_cast<std::size_t>(K) != 0) return false;
    f.residual = K;
    f.depth = static_cast<Index>(ops.size());
    f.width = {first.width};
    f.residual_scale = fmt::format("{}", last.alpha);
    const bool pre = first.norm != NormKind::none;
    f.norm = pre ? first.norm : last.norm;
    f.norm_eps = pre ? first.norm_eps : last.norm_eps;
    f.norm_position = pre || last.norm == NormKind::none ? NormPosition::pre : NormPosition::post;
    if (f.input_dim != 0 && f.input_dim != first.width) return false;  // the file has no projection
  } else {
    f.depth = static_cast<Index>(ops.size());
    for (const LayerOp& op : ops) f.width.push_back(op.width);
    if (std::all_of(f.width.begin(), f.width.end(), [&](Index w) { return w == f.width.front(); })) f.width.resize(1);
    f.norm = first.norm;
    f.norm_eps = first.norm_eps;
  }
  f.arch_ops.clear();
  f.arch_entries.clear();
  // The flags' network, built as the flags build it: the same ops, or not the flag form.
  NetworkSpec spec;
  try {
    spec = network_spec(f, *first.activation);
  } catch (const UsageError&) {
    return false;
  }
  spec.ops.pop_back();  // the head
  if (spec.ops != ops) return false;
  c = std::move(f);
  return true;
}

}  // namespace

void load_arch_text(const std::string& text, const std::string& path, AnalysisConfig& c) {
  const Reader r{"--arch " + path};
  const json doc = parse_json_strict(text, r.source);
  if (!doc.is_object()) r.fail("the file", "give an object: {\"layers\": [...]}");
  r.only_keys(doc, "the file", {"layers", "description"});
  if (!doc.contains("layers") || !doc.at("layers").is_array() || doc.at("layers").empty())
    r.fail("layers", "give a non-empty list of layers and blocks");
  std::vector<LayerOp> ops;
  std::vector<std::string> entries;
  Index blocks = 0;
  const json& layers = doc.at("layers");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& entry = layers[i];
    const std::string where = fmt::format("layers[{}]", i);
    if (!entry.is_object() || !entry.contains("block")) {
      ops.push_back(r.layer(entry, where, false, false));
      entries.push_back(where);
      continue;
    }
    r.only_keys(entry, where, {"block", "scale", "norm", "norm-position", "norm-eps"});
    const json& branch = entry.at("block");
    if (!branch.is_array() || branch.size() < 2)
      r.fail(where + ".block", "a block is a list of K >= 2 layers (the last one linear): s' = s + scale F(s)");
    const Index stream = static_cast<Index>(ops.size());
    const std::size_t start = ops.size();
    ++blocks;
    for (std::size_t j = 0; j < branch.size(); ++j) {
      const std::string at = fmt::format("{}.block[{}]", where, j);
      LayerOp op = r.layer(branch[j], at, true, j + 1 == branch.size());
      op.block = blocks;
      op.kind = j == 0 ? OpKind::branch_in : j + 1 == branch.size() ? OpKind::skip_add : OpKind::dense;
      ops.push_back(op);
      entries.push_back(at);
    }
    LayerOp& skip = ops.back();
    skip.stream = stream;
    skip.alpha = r.number(entry, where, "scale", 1, -INFINITY, INFINITY, "a number; 0 is ReZero");
    skip.learn_alpha = skip.alpha == 0;
    const NormKind norm = r.choice(entry, where, "norm", NormKind::none, norm_kind_names());
    const NormPosition position = r.choice(entry, where, "norm-position", NormPosition::pre, norm_position_names());
    const double eps = r.number(entry, where, "norm-eps", 1e-5, 0, INFINITY, "a number > 0");
    if (!(eps > 0)) r.fail(where + ".norm-eps", "0 is not allowed (a number > 0)");
    LayerOp& normed = position == NormPosition::pre ? ops[start] : skip;
    normed.norm = norm;
    normed.norm_eps = eps;
  }
  // The checks every op list meets (core/layer_op.h), with the file's entry names; the stream's
  // width against the input is checked again when --input-dim is known (network_spec).
  ops.push_back({OpKind::head, 1, nullptr, 0});
  if (const std::optional<OpListError> e = check_ops(ops.front().width, ops))
    r.fail(e->op < entries.size() ? entries[e->op] : "layers", e->message);
  ops.pop_back();

  c.arch = path;
  c.arch_fnv1a64 = fnv1a64(text);
  if (as_flags(ops, c)) return;
  c.arch_ops = std::move(ops);
  c.arch_entries = std::move(entries);
  c.depth = static_cast<Index>(c.arch_ops.size());
  c.width.clear();
  for (const LayerOp& op : c.arch_ops) c.width.push_back(op.width);
  c.residual = 0;
  c.activations.clear();  // the run's label: the file's first activation that is not linear
  for (const LayerOp& op : c.arch_ops)
    if (c.activations.empty() && op.activation->name != "identity") c.activations.emplace_back(op.activation->name);
  if (c.activations.empty()) c.activations.emplace_back("identity");
}

void load_arch(const std::string& path, AnalysisConfig& c) { load_arch_text(read_input_file(path, "--arch"), path, c); }

}  // namespace gf
