#include "batch/rules.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/json_io.h"
#include "base/real_text.h"
#include "base/suggest.h"
#include "core/jacobian_record.h"
#include "core/metrics.h"

namespace gf {
namespace {

const char* op_text(RuleOp op) {
  switch (op) {
    case RuleOp::lt: return "<";
    case RuleOp::le: return "<=";
    case RuleOp::gt: return ">";
    case RuleOp::ge: return ">=";
  }
  return "?";
}

std::string trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

bool parse_double(const std::string& s, double& v) { return parse_real_text(s, v); }  // 1/3 too

bool parse_index(const std::string& s, Index& v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty() && v >= 1;
}

void set_layers(Rule& r, const std::string& spec, const std::string& origin, bool blocks = false) {
  const std::size_t colon = spec.find(':');
  const std::string a = spec.substr(0, colon);
  const std::string b = colon == std::string::npos ? a : spec.substr(colon + 1);
  const bool ok = parse_index(a, r.first_layer) && (b.empty() ? (r.last_layer = 0, true) : parse_index(b, r.last_layer));
  if (!ok || (r.last_layer != 0 && r.last_layer < r.first_layer))
    throw UsageError(fmt::format("{0}: {1} '{2}' is not a {3} range: give A:B (inclusive, "
                                 "1 <= A <= B), A: (to the last {3}) or A",
                                 origin, blocks ? "blocks" : "layers", spec, blocks ? "block" : "layer"));
  (blocks ? r.per_block : r.per_layer) = true;
}

Rule from_parts(const std::string& metric, const std::string& op, const std::string& bound,
                const std::string& layers, const std::string& activation, const std::string& origin,
                const std::string& blocks = "") {
  Rule r;
  r.origin = origin;
  r.metric = metric;
  const bool summary = find_summary_metric(metric) || parse_jacobian_figure(metric) || find_block_run_metric(metric),
             layer = find_layer_metric(metric), block = find_block_metric(metric);
  if (!summary && !layer && !block) {
    std::vector<std::string> names;
    for (const SummaryMetric& m : summary_metrics()) names.emplace_back(m.key);
    for (const JacobianMetric& m : jacobian_metrics()) names.emplace_back(m.key);
    for (const BlockRunMetric& m : block_run_metrics()) names.emplace_back(m.key);
    for (const LayerMetric& m : layer_metrics())
      if (!find_summary_metric(m.key)) names.emplace_back(m.key);
    for (const BlockMetric& m : block_metrics()) names.emplace_back(m.key);
    throw UsageError(fmt::format("{}: unknown metric '{}'{}; summary metrics (once per run), per-layer and "
                                 "per-block metrics: {}; and jac_<figure>_from_<l> for the partial Jacobian "
                                 "d a_L / d a_l of --jacobian-depths",
                                 origin, metric, did_you_mean(metric, names), join(names)));
  }
  if (block) {  // residual blocks: blocks=A:B, not layers=
    if (!layers.empty())
      throw UsageError(fmt::format("{}: {} is a per-block metric: give blocks=A:B, not layers=", origin, metric));
    set_layers(r, blocks.empty() ? "1:" : blocks, origin, true);
  } else if (!blocks.empty()) {
    throw UsageError(fmt::format("{}: blocks= is for the per-block metrics ({}), and {} is not one", origin,
                                 [] {
                                   std::vector<std::string> n;
                                   for (const BlockMetric& m : block_metrics()) n.emplace_back(m.key);
                                   return join(n);
                                 }(),
                                 metric));
  }
  if (op == "<") r.op = RuleOp::lt;
  else if (op == "<=") r.op = RuleOp::le;
  else if (op == ">") r.op = RuleOp::gt;
  else if (op == ">=") r.op = RuleOp::ge;
  else throw UsageError(fmt::format("{}: unknown operator '{}'; give <, <=, > or >=", origin, op));
  if (!parse_double(bound, r.bound))
    throw UsageError(fmt::format("{}: bound '{}' is not a number", origin, bound));
  if (block) {
    // the range is set above
  } else if (!layers.empty()) {
    if (!layer)
      throw UsageError(fmt::format("{}: {} is a summary metric, one value per run: drop layers=", origin, metric));
    set_layers(r, layers, origin);
  } else {
    r.per_layer = !summary;
  }
  if (!activation.empty() && !find_activation(activation)) {
    throw UsageError(fmt::format("{}: unknown activation '{}'{}", origin, activation,
                                 did_you_mean(activation, activation_names())));
  }
  r.activation = activation;
  return r;
}

Rule parse_json_rule(const std::string& spec, const std::string& origin) {
  const nlohmann::json j = parse_json_strict(spec, origin);  // a key given twice is refused
  if (!j.is_object()) throw UsageError(fmt::format("{}: '{}' is not a JSON object", origin, spec));
  std::string metric, op, bound, layers, activation, blocks;
  for (const auto& [key, v] : j.items()) {
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (key == "metric") metric = text;
    else if (key == "op") op = text;
    else if (key == "bound") bound = text;
    else if (key == "activation") activation = text;
    else if (key == "layers" || key == "blocks") {
      (key == "layers" ? layers : blocks) = v.is_array() && v.size() == 2 ? v[0].dump() + ":" + v[1].dump() : text;
    } else {
      throw UsageError(fmt::format("{}: unknown key '{}'{}; a rule has metric, op, bound, and "
                                   "optionally layers (blocks) and activation",
                                   origin, key,
                                   did_you_mean(key, {"metric", "op", "bound", "layers", "blocks", "activation"})));
    }
  }
  for (const auto& [name, value] : {std::pair{"metric", metric}, {"op", op}, {"bound", bound}})
    if (value.empty()) throw UsageError(fmt::format("{}: '{}' has no \"{}\"", origin, spec, name));
  return from_parts(metric, op, bound, layers, activation, origin, blocks);
}

// Measured over seeds 0..9 (f32), healthy: configs/ci/mlp.json (tanh, relu, gelu), the tanh and
// relu of configs/default.json, relu he_normal at depth 30, and the networks of the train presets
// at initialisation; broken: configs/ci/mlp.json with relu xavier_normal, relu bias -0.1, sigmoid
// at depth 20, tanh sigma_w2 4. Healthy extremes, then broken ones, beside each rule.
const DefaultRule kDefaultRules[] = {
    {"grad_factor_per_layer >= 0.7",
     "the gradient shrinks by at most x0.7 per layer on its way down (healthy: x0.78 at worst; sigmoid: x0.24)"},
    {"grad_factor_per_layer <= 1.12",
     "and grows by at most x1.12 per layer (healthy: x1.08 at worst; tanh at sigma_w2 4, chaotic: x1.14 to x1.19)"},
    {"signal_first_last_log10 >= -1",
     "the forward signal (pre-activation RMS) reaches layer L with at least a tenth of layer 1's (healthy: "
     "10^-0.84 at worst; relu with xavier_normal: 10^-1.4 to 10^-2.0 at depth 12)"},
    {"signal_first_last_log10 <= 1", "and with at most ten times it"},
    {"inactive_frac <= 0.6 layers=1:",
     "no layer has more than 60% of its unit-samples in a dead zone (healthy relu: 58% at worst; relu with "
     "bias -0.1: 63% to 88% in its top layers)"},
    {"dead_units_frac <= 0.3",
     "at most 30% of all hidden units are dead on the whole batch (healthy relu: 22% at worst, depth 30)"},
};

}  // namespace

std::span<const DefaultRule> default_rules() { return kDefaultRules; }

std::string Rule::op_text() const { return gf::op_text(op); }

std::string Rule::bound_text() const { return fmt::format("{} {:g}", op_text(), bound); }

std::string Rule::text() const {
  std::string out = fmt::format("{} {}", metric, bound_text());
  std::vector<std::string> scope;
  if (per_layer)
    scope.push_back(last_layer == 0 ? fmt::format("layers {}..L", first_layer)
                    : first_layer == last_layer ? fmt::format("layer {}", first_layer)
                                                : fmt::format("layers {}..{}", first_layer, last_layer));
  if (per_block)
    scope.push_back(last_layer == 0 ? fmt::format("blocks {}..last", first_layer)
                    : first_layer == last_layer ? fmt::format("block {}", first_layer)
                                                : fmt::format("blocks {}..{}", first_layer, last_layer));
  if (!activation.empty()) scope.push_back(activation);
  return scope.empty() ? out : out + " (" + join(scope) + ")";
}

bool rule_holds(RuleOp op, double v, double b) {
  switch (op) {
    case RuleOp::lt: return v < b;
    case RuleOp::le: return v <= b;
    case RuleOp::gt: return v > b;
    case RuleOp::ge: return v >= b;
  }
  return false;
}

Rule parse_rule(const std::string& spec_in, const std::string& origin) {
  const std::string spec = trim(spec_in);
  if (!spec.empty() && spec.front() == '{') return parse_json_rule(spec, origin);
  const std::size_t at = spec.find_first_of("<>");
  if (at == std::string::npos || at == 0)
    throw UsageError(fmt::format("{}: '{}' is not a rule: give METRIC OP BOUND [layers=A:B] "
                                 "[activation=NAME], e.g. 'dead_units_frac <= 0.05'",
                                 origin, spec));
  const std::size_t op_len = at + 1 < spec.size() && spec[at + 1] == '=' ? 2 : 1;
  const std::string metric = trim(std::string_view(spec).substr(0, at));
  std::vector<std::string> words;
  std::string rest = spec.substr(at + op_len);
  for (std::size_t p = 0; p < rest.size();) {
    const std::size_t b = rest.find_first_not_of(" \t", p);
    if (b == std::string::npos) break;
    const std::size_t e = rest.find_first_of(" \t", b);
    words.push_back(rest.substr(b, e == std::string::npos ? std::string::npos : e - b));
    p = e == std::string::npos ? rest.size() : e;
  }
  if (words.empty()) throw UsageError(fmt::format("{}: '{}' has no bound", origin, spec));
  std::string layers, activation, blocks;
  for (std::size_t k = 1; k < words.size(); ++k) {
    const std::size_t eq = words[k].find('=');
    const std::string key = words[k].substr(0, eq), value = eq == std::string::npos ? "" : words[k].substr(eq + 1);
    std::string* slot = key == "layers" ? &layers : key == "activation" ? &activation : key == "blocks" ? &blocks : nullptr;
    if (slot && !value.empty() && !slot->empty())
      throw UsageError(fmt::format("{}: {}= is given twice in '{}' ({} and {}); give it once", origin, key, spec,
                                   *slot, value));
    if (slot && !value.empty()) *slot = value;
    else
      throw UsageError(fmt::format("{}: '{}' in '{}' is not layers=A:B, blocks=A:B or activation=NAME", origin,
                                   words[k], spec));
  }
  return from_parts(metric, spec.substr(at, op_len), words[0], layers, activation, origin, blocks);
}

RuleOutcome evaluate_rule(const Rule& rule, const std::vector<CheckedRun>& runs) {
  RuleOutcome out;
  const SummaryMetric* sm = rule.per_layer ? nullptr : find_summary_metric(rule.metric);
  const LayerMetric* lm = rule.per_layer ? find_layer_metric(rule.metric) : nullptr;
  const std::optional<JacobianFigure> jf = rule.per_layer ? std::nullopt : parse_jacobian_figure(rule.metric);
  const BlockRunMetric* brm = rule.per_layer ? nullptr : find_block_run_metric(rule.metric);
  const BlockMetric* bm = rule.per_block ? find_block_metric(rule.metric) : nullptr;
  std::vector<std::string> seen;
  for (const CheckedRun& run : runs) {
    const RunResult& r = *run.result;
    seen.push_back(r.activation);
    if (!rule.activation.empty() && r.activation != rule.activation) continue;
    if (brm || bm) {  // residual nets only: a plain stack has no blocks to check
      const auto& blocks = r.pass.blocks;
      if (blocks.empty()) continue;
      if (brm) {
        ++out.checked;
        const double v = brm->value(blocks);
        if (!rule_holds(rule.op, v, rule.bound)) out.violations.push_back({run.config, r.activation, 0, v, ""});
        continue;
      }
      const auto n = static_cast<Index>(blocks.size());
      for (Index k = rule.first_layer; k <= (rule.last_layer == 0 ? n : std::min(rule.last_layer, n)); ++k) {
        ++out.checked;
        const double v = blocks[static_cast<std::size_t>(k - 1)].*(bm->field);
        if (!rule_holds(rule.op, v, rule.bound)) out.violations.push_back({run.config, r.activation, k, v, ""});
      }
      continue;
    }
    if (jf) {
      if (!r.jacobian && r.pass.overflow_layer == 0)
        throw UsageError(fmt::format("{} ({}): {} is measured only with --jacobian: add it", rule.origin,
                                     rule.text(), rule.metric));
      if (r.jacobian && !jacobian_from(r, jf->from.value_or(0)))
        throw UsageError(fmt::format("{} ({}): {} is the partial Jacobian d a_L / d a_{}, measured only with "
                                     "--jacobian-depths {}: add {} to it",
                                     rule.origin, rule.text(), rule.metric, *jf->from, *jf->from, *jf->from));
      ++out.checked;  // an overflowing run has no value: NaN, which no bound holds
      const double v = jacobian_value(r, *jf);
      if (!rule_holds(rule.op, v, rule.bound)) out.violations.push_back({run.config, r.activation, 0, v, ""});
      continue;
    }
    if (sm) {
      ++out.checked;
      const double v = r.summary.*(sm->field);
      if (!rule_holds(rule.op, v, rule.bound)) out.violations.push_back({run.config, r.activation, 0, v, ""});
      continue;
    }
    const auto L = static_cast<Index>(r.pass.layers.size());
    const Index last = rule.last_layer == 0 ? L : std::min(rule.last_layer, L);
    for (Index l = rule.first_layer; l <= last; ++l) {
      ++out.checked;
      const double v = r.pass.layers[static_cast<std::size_t>(l - 1)].*(lm->field);
      if (!rule_holds(rule.op, v, rule.bound)) {
        // --model: the layer's name in the file (as analyze's reports name it)
        const bool named = static_cast<std::size_t>(l) <= r.layer_names.size();
        out.violations.push_back({run.config, r.activation, l, v, named ? r.layer_names[static_cast<std::size_t>(l - 1)] : ""});
      }
    }
  }
  if (out.checked == 0) {
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    throw UsageError(fmt::format("{} ({}): checks nothing: {}", rule.origin, rule.text(),
                                 brm || bm ? fmt::format("no run of {} has residual blocks{}", join(seen),
                                                         rule.first_layer > 1 ? fmt::format(" (or block {})", rule.first_layer) : "")
                                 : rule.per_layer && rule.first_layer > 1
                                     ? fmt::format("no run of {} has layer {}", join(seen), rule.first_layer)
                                     : fmt::format("the runs are {}", join(seen))));
  }
  return out;
}

}  // namespace gf
