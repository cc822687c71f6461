#include "batch/run_record.h"

#include <algorithm>
#include <fmt/format.h>

#include "base/csv_text.h"
#include "base/json_io.h"
#include "base/real_text.h"
#include "core/jacobian_record.h"
#include "core/given_network.h"
#include "core/metrics.h"
#include "core/run_json.h"

namespace gf {

using ojson = nlohmann::ordered_json;

ojson record_config(const AnalysisConfig& c, bool every_key) {
  ojson j = config_json(c, every_key);
  j["activation"] = c.activations.at(0);
  const ojson& w = j["width"];
  if (std::all_of(w.begin(), w.end(), [&](const ojson& x) { return x == w.front(); })) {
    const ojson first = w.front();
    j["width"] = first;
  }
  return j;
}

std::string run_id_of(const ojson& record_config) {
  return fmt::format("{:016x}", fnv1a64(record_config.dump()));
}

std::string record_jsonl(const AnalysisConfig& c, const RunResult& r, bool layers) {
  ojson run = run_json(r);  // activation, init, finite, overflow_layer, zero_grad_layer, inexact_layer, summary, layers
  ojson config = record_config(c);
  ojson rec = {{"schema_version", kSchemaVersion}, {"run_id", run_id_of(config)}};
  rec["config"] = std::move(config);
  rec["resolved_init"] = run["init"];
  for (const char* key : {"finite", "overflow_layer", "zero_grad_layer", "inexact_layer", "summary"}) rec[key] = run[key];
  for (const char* key : {"jacobian", "jacobian_partials"})
    if (run.contains(key)) rec[key] = run[key];
  if (layers) rec["layers"] = run["layers"];
  if (run.contains("blocks")) rec["blocks"] = run["blocks"];  // residual nets: a few figures per block
  return dump_json(rec) + "\n";
}

namespace {

// A config value as text: a list as its elements joined by ';'.
std::string text_of(const ojson& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const ojson& x : v) {
      if (!out.empty()) out += ';';
      out += text_of(x);
    }
    return out;
  }
  if (v.is_number_float()) return csv_number(v.get<double>());
  return v.dump();
}

// One cell of a record's line: file names and labels may hold commas, quotes and line breaks.
std::string cell(const ojson& v) { return csv_line_text(text_of(v));
}

}  // namespace

namespace {

// The config columns: every key a run of these columns has, in one order. --jacobian's keys are
// there only with it (as in its JSON), "jacobian-depths" only with partials.
ojson csv_config_keys(const RecordColumns& columns) {
  AnalysisConfig c;
  c.jacobian = columns.jacobian;
  c.jacobian_depths = columns.partials;
  if (columns.model) c.model = std::make_shared<GivenNetwork>();  // stand-ins: only their keys are read
  if (columns.data) {
    c.data = std::make_shared<GivenBatch>();
    c.label_col = "-1";  // the key is written only when set
  }
  return record_config(c, true);
}

}  // namespace

std::string record_csv_header(const RecordColumns& columns) {
  std::string out = "run_id";
  const ojson keys = csv_config_keys(columns);
  for (const auto& [key, value] : keys.items()) {
    out += ',';
    out += key;
  }
  out += ",resolved_init,finite,overflow_layer,zero_grad_layer,inexact_layer";
  // Column names are unique: the summary's loss is summary_loss (loss is the --loss option),
  // and per-layer columns start with layer_.
  for (const SummaryMetric& m : summary_metrics())
    out += fmt::format(",{}{}", keys.contains(std::string(m.key)) ? "summary_" : "", m.key);
  out += ",verdict";
  if (columns.jacobian) out += jacobian_csv_header(columns.partials);
  if (columns.layers) {
    out += ",layer,layer_fan_in,layer_width";
    for (const LayerMetric& m : layer_metrics()) out += fmt::format(",layer_{}", m.key);
    if (columns.blocks) out += block_csv_header();
  }
  return out + "\n";
}

std::string record_csv(const AnalysisConfig& c, const RunResult& r, const RecordColumns& columns) {
  const ojson config = record_config(c, true);
  std::string row = run_id_of(record_config(c));
  // By the header's keys: a run without a key the header has (--jacobian-depths not given to
  // it) leaves its cell empty rather than shifting the row.
  const ojson keys = csv_config_keys(columns);
  for (const auto& [key, unused] : keys.items()) {
    row += ',';
    if (config.contains(key)) row += cell(config[key]);
  }
  auto layer_or_empty = [](Index l) { return l ? std::to_string(l) : std::string(); };
  row += fmt::format(",{},{},{},{},{}", csv_line_text(r.init), r.pass.overflow_layer == 0 ? "true" : "false",
                     layer_or_empty(r.pass.overflow_layer), layer_or_empty(r.pass.zero_grad_layer),
                     layer_or_empty(r.pass.inexact_layer));
  for (const SummaryMetric& m : summary_metrics()) {
    row += ',';
    row += csv_number(r.summary.*m.field);
  }
  row += ',';
  row += cell(ojson(r.summary.verdict));
  if (columns.jacobian) row += jacobian_csv_cells(r, columns.partials);
  if (!columns.layers) return row + "\n";
  std::string out;
  for (const LayerStats& l : r.pass.layers) {
    out += row + fmt::format(",{},{},{}", l.layer, l.fan_in, l.width);
    for (const LayerMetric& m : layer_metrics()) {
      out += ',';
      out += csv_number(l.*m.field);
    }
    if (columns.blocks) out += block_csv_cells(r.pass.blocks, l.layer);
    out += '\n';
  }
  return out;
}

std::string run_id_of_line(std::string_view line, bool csv) {
  if (csv) {
    const std::size_t comma = line.find(',');
    const std::string_view id = line.substr(0, comma);
    return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == id.npos ? std::string(id) : "";
  }
  const ojson rec = ojson::parse(line, nullptr, false);
  if (!rec.is_object() || !rec.contains("run_id") || !rec["run_id"].is_string()) return "";
  return rec["run_id"].get<std::string>();
}

bool is_torn_record(std::string_view text, bool csv) {
  if (csv) {  // a run_id of 16 hex digits, then a comma
    const std::string_view id = text.substr(0, 16);
    return id.find_first_not_of("0123456789abcdef") == id.npos && (text.size() <= 16 || text[16] == ',');
  }
  const std::string head = fmt::format(R"({{"schema_version":{},"run_id":")", kSchemaVersion);
  if (text.size() <= head.size()) return std::string_view(head).starts_with(text);
  if (!text.starts_with(head)) return false;
  if (!run_id_of_line(text, false).empty()) return true;  // a whole record whose newline was cut off
  try {
    return ojson::parse(text).is_discarded();  // false: whole JSON, but no record
  } catch (const ojson::parse_error& e) {
    return e.byte > text.size();  // the text ran out: the start of a longer document
  } catch (const ojson::exception&) {
    return false;
  }
}

}  // namespace gf
