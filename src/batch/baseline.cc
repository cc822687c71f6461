#include "batch/baseline.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <sstream>

#include "base/errors.h"
#include "base/json_io.h"
#include "base/real_text.h"
#include "base/suggest.h"
#include "batch/records.h"
#include "config/model_options.h"
#include "config/replaced_options.h"
#include "config/settings.h"
#include "core/jacobian_record.h"
#include "core/jacobian_stats.h"
#include "core/metrics.h"
#include "core/run_json.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

namespace {

const char* const kExactFields[] = {"overflow_layer", "zero_grad_layer", "inexact_layer"};

std::vector<std::string> comparable_metrics() {
  std::vector<std::string> names;
  for (const SummaryMetric& m : summary_metrics()) names.emplace_back(m.key);
  for (const LayerMetric& m : layer_metrics())
    if (std::find(names.begin(), names.end(), m.key) == names.end()) names.emplace_back(m.key);
  for (const JacobianMetric& m : jacobian_metrics()) names.emplace_back(m.key);
  for (const BlockMetric& m : block_metrics()) names.emplace_back(m.key);
  for (const char* f : kExactFields) names.emplace_back(f);
  return names;
}

}  // namespace

AnalysisConfig reproduce_config(const ojson& config, const std::string& where, std::shared_ptr<SharedFiles> files) {
  // A document of `analyze --seed A:B` holds statistics over seeds, not runs to compare.
  if (const auto seed = config.find("seed"); seed != config.end() && seed->is_string())
    throw UsageError(fmt::format("{}: recorded with --seed {}, it holds statistics over seeds; a baseline is one "
                                 "seed's runs: record it with a single --seed",
                                 where, seed->get<std::string>()));
  // --theory only adds predictions beside the measurements: the networks are the same.
  nlohmann::json network = nlohmann::json::parse(config.dump());
  network.erase("theory");
  // --model: the files must be the ones recorded (their content hashes), and the network is the
  // model's: the depth, widths, ... recorded beside it describe it, they do not build it. The
  // same for an --arch file. Each is read once: the run parses the bytes whose hash was checked.
  if (!files) files = std::make_shared<SharedFiles>();
  {
    const std::lock_guard<std::mutex> lock(files->mutex);
    use_checked_files(check_recorded_files(config, where, &files->files), files->files);
  }
  network.erase("model-fnv1a64");
  network.erase("data-fnv1a64");
  network.erase("arch-fnv1a64");
  if (network.contains("model"))
    for (const std::string& key : model_replaced_options()) network.erase(key);
  if (network.contains("arch"))
    for (const std::string& key : arch_replaced_options()) network.erase(key);
  try {
    return config_from_json(network, "config", std::move(files));
  } catch (const UsageError& e) {
    std::string what = e.what();
    if (what.rfind("config: ", 0) == 0) what.erase(0, 8);
    throw UsageError(fmt::format("{}: this gradflow ({}) cannot reproduce its config: {}", where,
                                 GRADFLOW_VERSION, what));
  }
}

Baseline load_baseline(const std::string& path, std::shared_ptr<SharedFiles> files) {
  Baseline b;
  b.path = path;
  b.doc = ojson::parse(read_input_file(path, "--baseline", std::size_t{1} << 30), nullptr, false);
  const std::string where = "--baseline " + path;
  const std::string record_hint = "record one with `gradflow analyze ... --format json -o FILE`";
  if (b.doc.is_discarded() || !b.doc.is_object())
    throw UsageError(fmt::format("{}: not a JSON document; {}", where, record_hint));
  if (b.doc.value("tool", "") != "gradflow" || b.doc.value("command", "") != "analyze")
    throw UsageError(fmt::format("{}: not the JSON of `gradflow analyze` (its \"command\" is {}); {}",
                                 where, b.doc.contains("command") ? b.doc["command"].dump() : "missing",
                                 record_hint));
  if (!b.doc.contains("schema_version") || b.doc["schema_version"] != kSchemaVersion)
    throw UsageError(fmt::format("{}: written with schema version {} (by gradflow {}), and this "
                                 "gradflow {} reads version {}: its numbers may not mean the same; "
                                 "record the baseline again with this version",
                                 where, b.doc.contains("schema_version") ? b.doc["schema_version"].dump() : "missing",
                                 b.doc.value("version", "?"), GRADFLOW_VERSION, kSchemaVersion));
  if (!b.doc.contains("config") || !b.doc["config"].is_object())
    throw UsageError(fmt::format("{}: has no config block to rerun", where));
  b.config = reproduce_config(b.doc["config"], where, std::move(files));

  const ojson& runs = b.doc.contains("runs") ? b.doc["runs"] : ojson();
  std::vector<std::string> recorded;
  if (runs.is_array())
    for (const ojson& r : runs) recorded.push_back(r.is_object() ? r.value("activation", "?") : "?");
  if (recorded != b.config.activations)
    throw UsageError(fmt::format("{}: its runs ({}) do not match the activations of its config ({})",
                                 where, join(recorded), join(b.config.activations)));
  for (const ojson& r : runs) {
    if (!r.contains("summary") || !r["summary"].is_object() || !r.contains("layers") ||
        !r["layers"].is_array() || static_cast<Index>(r["layers"].size()) != b.config.layer_count())
      throw UsageError(fmt::format("{}: run {} lacks its summary or its {} layers", where,
                                   r.value("activation", "?"), b.config.layer_count()));
  }
  return b;
}

std::size_t baseline_metrics_per_run() {
  return std::size(kExactFields) + summary_metrics().size() + layer_metrics().size();
}

double Tolerance::allowed(const std::string& metric, double expected, double count_quantum) const {
  const auto a = atol_for.find(metric), r = rtol_for.find(metric);
  return (a != atol_for.end() ? a->second : atol) + (r != rtol_for.end() ? r->second : rtol) * std::fabs(expected) +
         count_slack * count_quantum;
}

double count_quantum(const std::string& metric, Index layer, const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  const auto B = static_cast<double>(c.batch), L = static_cast<double>(c.layer_count());
  if (layer > 0) {
    const LayerMetric* m = find_layer_metric(metric);
    if (!m) return 0;
    const auto n = static_cast<double>(w[static_cast<std::size_t>(layer)]);
    const auto n_in = static_cast<double>(w[static_cast<std::size_t>(layer - 1)]);
    switch (m->counts) {
      case Counts::none: return 0;
      case Counts::unit_samples: return 1 / (B * n);
      case Counts::units: return 1 / n;
      case Counts::weight_signs: return 2 / (n_in * n);  // a sign flips: |pos - neg| moves by 2
    }
    return 0;
  }
  // A summary over layers moves most when the count changes in the narrowest layer.
  const double n_min = static_cast<double>(*std::min_element(w.begin() + 1, w.end()));
  double fan_min = 1e300, units = 0;
  for (std::size_t l = 1; l < w.size(); ++l) {
    units += static_cast<double>(w[l]);
    if (l >= 2) fan_min = std::min(fan_min, static_cast<double>(w[l - 1] * w[l]));
  }
  const SummaryMetric* s = find_summary_metric(metric);
  const LayerMetric* m = s && !s->of.empty() ? find_layer_metric(s->of) : nullptr;
  if (!m || m->counts == Counts::none) return 0;
  // One count in the narrowest layer: num / den (products of integers, exact in double).
  const double num = m->counts == Counts::weight_signs ? 2 : 1;  // a sign flips: |pos - neg| moves by 2
  const double den = m->counts == Counts::unit_samples ? B * n_min : m->counts == Counts::units ? n_min : fan_min;
  switch (s->over) {
    case OverLayers::mean: return num / (L * den);
    case OverLayers::mean_from_2: return L > 1 ? num / ((L - 1) * den) : 0;
    case OverLayers::max: return num / den;
    case OverLayers::pooled: return m->counts == Counts::units ? 1 / units : 0;
    case OverLayers::none: return 0;
  }
  return 0;
}

void add_overrides(std::map<std::string, double>& into, const std::vector<std::string>& specs, const char* flag) {
  const std::vector<std::string> names = comparable_metrics();
  for (const std::string& spec : specs) {
    const std::size_t eq = spec.find('=');
    const std::string metric = spec.substr(0, eq);
    double v = -1;
    if (eq != std::string::npos && !parse_real_text(spec.substr(eq + 1), v)) v = -1;
    if (eq == std::string::npos || !(v >= 0) || !std::isfinite(v))
      throw UsageError(fmt::format("{}: '{}' is not METRIC=VALUE with a VALUE of at least 0", flag, spec));
    if (std::find(names.begin(), names.end(), metric) == names.end())
      throw UsageError(fmt::format("{}: unknown metric '{}'{}; allowed: {}", flag, metric,
                                   did_you_mean(metric, names), join(names)));
    if (!into.emplace(metric, v).second)
      throw UsageError(fmt::format("{}: {} is given twice; give one tolerance a metric", flag, metric));
  }
}

namespace {

// `tolerance_of`: the metric whose tolerance applies, when not g.metric (a partial's
// jac_s2_mean_from_16 takes jac_s2_mean's).
void compare_value(ComparisonGroup& g, Index layer, const ojson& expected, const ojson& got,
                   const Tolerance& t, bool exact, double quantum = 0, const std::string* tolerance_of = nullptr) {
  ++g.compared;
  Mismatch m{layer, expected, got, kNaN, kNaN, ""};
  if (expected.is_number() && got.is_number()) {
    const double e = expected.get<double>(), v = got.get<double>();
    m.difference = v - e;
    m.allowed = exact ? 0.0 : t.allowed(tolerance_of ? *tolerance_of : g.metric, e, quantum);
    if (std::fabs(m.difference) <= m.allowed) return;
  } else if (expected.is_null() && got.is_null()) {
    return;
  }
  g.mismatches.push_back(std::move(m));
}

const ojson& field(const ojson& obj, const std::string& key) {
  static const ojson null_value = nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? null_value : *it;
}

}  // namespace

std::vector<ComparisonGroup> compare_baseline(const Baseline& b, const AnalysisResult& now, const Tolerance& t,
                                              std::vector<std::string>& not_in_baseline,
                                              std::vector<std::string>& not_in_baseline_runs) {
  std::vector<ComparisonGroup> groups;
  auto absent = [&](const ojson& obj, std::string_view key) {
    if (obj.contains(std::string(key))) return false;
    if (std::find(not_in_baseline.begin(), not_in_baseline.end(), key) == not_in_baseline.end())
      not_in_baseline.emplace_back(key);
    return true;
  };
  // One count of a count fraction, on whichever side has the layer (the larger, if both).
  auto quantum = [&](const std::string& metric, Index layer) {
    double q = 0;
    for (const AnalysisConfig* c : {&b.config, &now.config})
      if (layer <= c->depth) q = std::max(q, count_quantum(metric, layer, *c));
    return q;
  };
  for (const RunResult& r : now.runs)
    if (std::find(b.config.activations.begin(), b.config.activations.end(), r.activation) == b.config.activations.end())
      not_in_baseline_runs.push_back(r.activation);
  for (std::size_t k = 0; k < b.config.activations.size(); ++k) {
    const std::string run = b.config.activations[k];
    const ojson& expected = b.doc["runs"][k];
    const auto it = std::find_if(now.runs.begin(), now.runs.end(), [&](const RunResult& r) { return r.activation == run; });
    if (it == now.runs.end()) {
      ComparisonGroup g{run, "run", "recorded", 1, {}};
      g.mismatches.push_back({0, "recorded", "not run now", kNaN, kNaN, ""});
      groups.push_back(std::move(g));
      continue;
    }
    const ojson got = run_json(*it);
    for (const char* f : kExactFields) {
      ComparisonGroup g{run, "run", f, 0, {}};
      compare_value(g, 0, field(expected, f), field(got, f), t, true);
      groups.push_back(std::move(g));
    }
    for (const SummaryMetric& m : summary_metrics()) {
      if (absent(expected["summary"], m.key)) continue;
      ComparisonGroup g{run, "summary", std::string(m.key), 0, {}};
      compare_value(g, 0, field(expected["summary"], g.metric), field(got["summary"], g.metric), t, false,
                    quantum(g.metric, 0));
      groups.push_back(std::move(g));
    }
    // --jacobian's figures, when the baseline has them (a run without --jacobian has none).
    if (expected.contains("jacobian") && expected["jacobian"].is_object()) {
      for (const JacobianMetric& m : jacobian_metrics()) {
        ComparisonGroup g{run, "jacobian", std::string(m.key), 0, {}};
        compare_value(g, 0, field(expected["jacobian"], g.metric), field(field(got, "jacobian"), g.metric), t, false);
        groups.push_back(std::move(g));
      }
    }
    // --jacobian-depths' partials, matched by l: one group per figure and l, named as its CSV
    // column (jac_s2_mean_from_16). A partial the current run lacks holds against nothing.
    if (expected.contains("jacobian_partials") && expected["jacobian_partials"].is_array()) {
      const ojson& got_partials = field(got, "jacobian_partials");
      for (const ojson& e : expected["jacobian_partials"]) {
        const ojson& layer = field(e, "layer");
        if (!layer.is_number_integer()) continue;
        const Index l = layer.get<Index>();
        static const ojson kNoPartial = ojson::object();
        const ojson* v = &kNoPartial;
        if (got_partials.is_array())
          for (const ojson& p : got_partials)
            if (field(p, "layer") == layer) v = &p;
        for (const JacobianMetric& m : jacobian_metrics()) {
          const std::string key(m.key);
          ComparisonGroup g{run, "jacobian_partials", partial_jacobian_name(m, l), 0, {}};
          compare_value(g, 0, field(e, key), field(*v, key), t, false, 0, &key);
          groups.push_back(std::move(g));
        }
      }
    }
    const std::size_t depth = std::max(expected["layers"].size(), got["layers"].size());
    static const ojson kNoLayer = ojson::object();
    for (const LayerMetric& m : layer_metrics()) {
      if (absent(expected["layers"][0], m.key)) continue;
      ComparisonGroup g{run, "layers", std::string(m.key), 0, {}};
      for (std::size_t l = 0; l < depth; ++l) {
        const ojson& e = l < expected["layers"].size() ? expected["layers"][l] : kNoLayer;
        const ojson& v = l < got["layers"].size() ? got["layers"][l] : kNoLayer;
        const std::size_t before = g.mismatches.size();
        compare_value(g, static_cast<Index>(l + 1), field(e, g.metric), field(v, g.metric), t, false,
                      quantum(g.metric, static_cast<Index>(l + 1)));
        // --model: the layer's name in the file, as recorded (or as run, for a layer only run now)
        const ojson& name = field(e, "name").is_string() ? field(e, "name") : field(v, "name");
        if (g.mismatches.size() > before && name.is_string()) g.mismatches.back().name = name.get<std::string>();
      }
      groups.push_back(std::move(g));
    }
    // Residual nets: each block metric over the blocks, when the baseline has them (the same
    // tolerances; a block on one side only is a mismatch against null).
    if (expected.contains("blocks") && expected["blocks"].is_array()) {
      const ojson& eb = expected["blocks"];
      const ojson& gb = field(got, "blocks");
      const std::size_t blocks = std::max(eb.size(), gb.is_array() ? gb.size() : std::size_t{0});
      for (const BlockMetric& m : block_metrics()) {
        ComparisonGroup g{run, "blocks", std::string(m.key), 0, {}};
        for (std::size_t k = 0; k < blocks; ++k) {
          const ojson& e = k < eb.size() ? eb[k] : kNoLayer;
          const ojson& v = gb.is_array() && k < gb.size() ? gb[k] : kNoLayer;
          compare_value(g, static_cast<Index>(k + 1), field(e, g.metric), field(v, g.metric), t, false);
        }
        groups.push_back(std::move(g));
      }
    }
  }
  return groups;
}

namespace {

// Lists read as typed: "tanh,relu"; a list of one repeated value (every layer's width) as that value.
std::string change_text(const ojson& v) {
  if (!v.is_array()) return value_text(v);
  if (v.size() > 1 && std::all_of(v.begin(), v.end(), [&](const ojson& x) { return x == v.front(); }))
    return value_text(v.front());
  std::vector<std::string> parts;
  for (const ojson& x : v) parts.push_back(value_text(x));
  return join(parts, ",");
}

}  // namespace

std::string ConfigChange::text() const {
  auto shown = [](const ojson& v) { return v.is_null() ? std::string("unset") : change_text(v); };
  return fmt::format("{}: {} -> {}", key, shown(baseline), shown(now));
}

std::vector<ConfigChange> config_changes(const AnalysisConfig& baseline, const AnalysisConfig& now) {
  const ojson a = config_json(baseline, true), b = config_json(now, true);
  std::vector<ConfigChange> out;
  for (const auto& [key, value] : a.items())
    if (!b.contains(key) || b[key] != value) out.push_back({key, value, b.contains(key) ? b[key] : ojson()});
  return out;
}

}  // namespace gf
