#include "batch/aggregate.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

#include "base/errors.h"
#include "base/suggest.h"
#include "core/jacobian_record.h"
#include "core/jacobian_stats.h"
#include "core/metrics.h"
#include "core/summary.h"

namespace gf {

using ojson = nlohmann::ordered_json;

Describe describe(const std::vector<double>& v, std::size_t nonfinite) {
  Describe d;
  d.n = v.size();
  d.nonfinite = nonfinite;
  if (v.empty()) return d;
  double sum = 0;
  for (const double x : v) sum += x;
  d.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (const double x : v) ss += (x - d.mean) * (x - d.mean);
  if (v.size() > 1) d.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  d.se = d.std / std::sqrt(static_cast<double>(v.size()));
  d.min = *std::min_element(v.begin(), v.end());
  d.max = *std::max_element(v.begin(), v.end());
  return d;
}

Describe describe_finite(std::span<const double> values) {
  std::vector<double> finite;
  for (const double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  return describe(finite, values.size() - finite.size());
}

namespace {

const ojson kMissing = nullptr;

const ojson& value_of(const Record& r, const std::string& key) {
  const ojson* v = record_key(r.json, key);
  return v ? *v : kMissing;
}

// The position of each distinct value of `key`, by its JSON text.
std::map<std::string, std::size_t> positions(const std::vector<ojson>& values) {
  std::map<std::string, std::size_t> pos;
  for (std::size_t k = 0; k < values.size(); ++k) pos.emplace(values[k].dump(), k);
  return pos;
}

// A run's figure: a summary metric, or one of --jacobian's (the record's "jacobian" object;
// a run without --jacobian has none, counted as not finite).
// Where a record keeps a metric: the summary, "jacobian" (J's figures) or the entry of
// "jacobian_partials" for layer l (jac_<figure>_from_<l>, as in CSV columns and rules); null if
// the record has none.
ojson metric_value(const ojson& record, const std::string& metric) {
  const std::optional<JacobianFigure> f = parse_jacobian_figure(metric);
  if (!f) return record["summary"].value(metric, ojson());
  if (!f->from || *f->from == 0) return record.value("jacobian", ojson::object()).value(f->metric->key, ojson());
  for (const ojson& p : record.value("jacobian_partials", ojson::array()))
    if (p.value("layer", Index{-1}) == *f->from) return p.value(f->metric->key, ojson());
  return ojson();
}

void add_value(const ojson& record, const std::string& metric, std::vector<double>& finite, std::size_t& nonfinite) {
  const ojson v = metric_value(record, metric);
  if (v.is_number()) finite.push_back(v.get<double>());
  else ++nonfinite;
}

}  // namespace

std::vector<ojson> key_values(const std::vector<Record>& records, const std::string& key) {
  std::vector<ojson> values;
  std::map<std::string, bool> seen;
  for (const Record& r : records) {
    const ojson& v = value_of(r, key);
    if (seen.emplace(v.dump(), true).second) values.push_back(v);
  }
  if (std::all_of(values.begin(), values.end(), [](const ojson& v) { return v.is_number(); }))
    std::stable_sort(values.begin(), values.end(),
                     [](const ojson& a, const ojson& b) { return a.get<double>() < b.get<double>(); });
  return values;
}

std::vector<std::string> varying_keys(const std::vector<Record>& records) {
  std::vector<std::string> keys;
  if (records.empty()) return keys;
  for (const auto& [key, value] : records.front().json["config"].items())
    if (key_values(records, key).size() > 1) keys.push_back(key);
  return keys;
}

std::vector<Group> group_records(const std::vector<Record>& records, const std::vector<std::string>& by,
                                 const std::vector<std::string>& metrics) {
  std::vector<std::vector<ojson>> values;
  std::vector<std::map<std::string, std::size_t>> pos;
  for (const std::string& key : by) {
    values.push_back(key_values(records, key));
    pos.push_back(positions(values.back()));
  }
  // Group each record by the positions of its key values: that orders the groups too.
  std::map<std::vector<std::size_t>, std::vector<const Record*>> groups;
  for (const Record& r : records) {
    std::vector<std::size_t> at;
    for (std::size_t k = 0; k < by.size(); ++k) at.push_back(pos[k].at(value_of(r, by[k]).dump()));
    groups[at].push_back(&r);
  }
  std::vector<Group> out;
  for (const auto& [at, members] : groups) {
    std::vector<ojson> key;
    for (std::size_t k = 0; k < by.size(); ++k) key.push_back(values[k][at[k]]);
    for (const std::string& metric : metrics) {
      std::vector<double> finite;
      std::size_t nonfinite = 0;
      for (const Record* r : members) add_value(r->json, metric, finite, nonfinite);
      out.push_back({key, metric, describe(finite, nonfinite)});
    }
  }
  return out;
}

Pivot make_pivot(const std::vector<Record>& records, const std::string& row_key,
                 const std::string& col_key, const std::string& metric) {
  Pivot p{metric, row_key, col_key, key_values(records, row_key), key_values(records, col_key), {}, {}};
  const auto row_pos = positions(p.rows), col_pos = positions(p.cols);
  std::vector<std::vector<std::vector<double>>> finite(p.rows.size(), std::vector<std::vector<double>>(p.cols.size()));
  std::vector<std::vector<std::size_t>> nonfinite(p.rows.size(), std::vector<std::size_t>(p.cols.size()));
  for (const Record& r : records) {
    const std::size_t i = row_pos.at(value_of(r, row_key).dump()), j = col_pos.at(value_of(r, col_key).dump());
    add_value(r.json, metric, finite[i][j], nonfinite[i][j]);
  }
  p.cells.assign(p.rows.size(), std::vector<Describe>(p.cols.size()));
  for (std::size_t i = 0; i < p.rows.size(); ++i)
    for (std::size_t j = 0; j < p.cols.size(); ++j) p.cells[i][j] = describe(finite[i][j], nonfinite[i][j]);
  for (const std::string& key : varying_keys(records))
    if (key != row_key && key != col_key) p.averaged.push_back(key);
  return p;
}

void check_key(const std::vector<Record>& records, const std::string& key, const char* flag) {
  if (records.empty() || record_key(records.front().json, key)) return;
  const std::vector<std::string> keys = record_keys(records.front().json);
  throw UsageError(fmt::format("{}: unknown key '{}'{}; records have: {}", flag, key,
                               did_you_mean(key, keys), join(keys)));
}

void check_metric(const std::string& metric, bool layers) {
  std::vector<std::string> summary, layer;
  for (const SummaryMetric& m : summary_metrics()) summary.emplace_back(m.key);
  for (const JacobianMetric& m : jacobian_metrics()) summary.emplace_back(m.key);  // one per run, too
  for (const LayerMetric& m : layer_metrics()) layer.emplace_back(m.key);
  const auto has = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), metric) != v.end(); };
  if (has(layers ? layer : summary)) return;
  if (!layers && parse_jacobian_figure(metric)) return;  // jac_s2_var_rel_from_16: a partial's figure, per run
  if (!layers && has(layer))
    throw UsageError(fmt::format("--metric: {} is a per-layer metric: add --layers (it reads the per-layer records of "
                                 "`sweep --layers`)",
                                 metric));
  if (layers && has(summary))
    throw UsageError(fmt::format("--metric: {} is a summary metric, one per run: drop --layers, or give a per-layer "
                                 "metric: {}",
                                 metric, join(layer)));
  const std::vector<std::string>& names = layers ? layer : summary;
  throw UsageError(fmt::format("--metric: unknown metric '{}'{}; the {} metrics are: {}", metric,
                               did_you_mean(metric, names), layers ? "per-layer" : "summary", join(names)));
}

std::vector<Record> layer_records(const std::vector<Record>& records) {
  std::vector<Record> out;
  for (const Record& r : records) {
    const auto it = r.json.find("layers");
    if (it == r.json.end() || !it->is_array())
      throw UsageError(fmt::format("--layers: {} has no per-layer metrics: record the sweep with `gradflow sweep "
                                   "--layers`",
                                   r.where));
    for (const ojson& layer : *it) {
      Record one{r.json, "", r.where};
      one.json.erase("layers");
      one.json["config"]["layer"] = layer.value("layer", 0);
      one.json["summary"] = layer;
      out.push_back(std::move(one));
    }
  }
  return out;
}

}  // namespace gf
