#include "cli/cmd_summarize.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <optional>
#include <set>
#include <cstdio>
#include <fmt/format.h>

#include "base/csv_text.h"
#include "base/errors.h"
#include "base/exit_status.h"
#include "base/json_io.h"
#include "base/output.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "batch/aggregate.h"
#include "cli/cmd_analyze.h"
#include "config/validators.h"
#include "report/pivot_overlay.h"
#include "report/plots.h"
#include "report/report_json.h"
#include "report/text_table.h"

namespace gf {

using ojson = nlohmann::ordered_json;

CLI::App* setup_summarize(CLI::App& app, SummarizeOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "summarize",
      "Group the records of one or more sweeps (or shards of one) and describe a summary metric "
      "in each group: n, mean, std, min, max; or pivot its mean over two keys.");
  cmd->add_option("files", o.files, "JSONL records of gradflow sweep; - is stdin. A run in several "
                                    "files counts once; the same run with different results is an error")
      ->type_name("FILE");
  add_list_option(*cmd, "--by", o.by,
                  "Group by these keys (config keys, i.e. the long option names, or resolved_init)")
      ->type_name("KEYS")
      ->default_str("every key that varies, seed aside");
  add_list_option(*cmd, "-m,--metric", o.metrics,
                  "Metrics to describe: summary metrics and --jacobian's jac_ figures (jac_<figure>_from_<l>: a partial's, of "
                  "--jacobian-depths), or with --layers per-layer ones (saturated_frac, "
                  "grad_weight_rel_log10, ...)")
      ->type_name("METRICS")
      ->default_str("grad_first_last_log10; with --layers grad_weight_rel_log10");
  cmd->add_flag("--layers", o.layers,
                "Per-layer metrics of `sweep --layers` records: every layer of every run is described, `layer` "
                "joins the keys (--by, --pivot layer,activation)");
  add_list_option(*cmd, "--pivot", o.pivot,
                  "A matrix of the metric's mean: rows one key, columns another (e.g. depth,activation); "
                  "each cell averages over every other key")
      ->type_name("ROW,COL");
  cmd->add_option("--where", o.where,
                  "Only records whose KEY has one of these values (repeatable, one KEY each time; the "
                  "clauses must all hold)")
      ->allow_extra_args(false)
      ->type_name("KEY=V[,V...]");
  cmd->add_option("--plot", o.plot,
                  "With --pivot over two numeric keys: draw the mean as a heatmap in FILE.svg (e.g. "
                  "--pivot depth,sigma-w2). A signed metric gets a diverging scale centred on its neutral value "
                  "(0, or 1 for a factor) and its contour there; a sigma-w2 axis gets the mean-field critical line; "
                  "the subtitle lists every setting the records share")
      ->type_name("FILE.svg");
  cmd->add_option("--panels", o.panels,
                  "With --plot: one heatmap per value of KEY, side by side on one colour scale (e.g. activation)")
      ->type_name("KEY");
  add_output_options(*cmd, o.format, {"table", "json", "csv"}, o.output, nullptr);
  cmd->footer(
      "std is the sample standard deviation (n-1), se the standard error of the mean, std/sqrt(n).\n"
      "Undefined values (null in a record: the forward pass overflowed, or a one-layer network has\n"
      "no per-layer factor) are counted as non-finite and left out of n, mean, std, se, min and max.\n"
      "Examples:\n"
      "  gradflow summarize runs.jsonl --pivot depth,activation\n"
      "  gradflow summarize shard*.jsonl --by activation,depth --metric grad_first_last_log10,dead_units_frac\n"
      "  gradflow summarize runs.jsonl --where init=he_normal --pivot depth,activation --format csv\n"
      "  gradflow summarize layers.jsonl --layers --metric saturated_frac --pivot layer,activation");
  return cmd;
}

namespace {

bool matches(const ojson& v, const std::vector<std::string>& wanted) {
  for (const std::string& w : wanted) {
    double x = 0;
    const auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), x);
    if (v.is_number() && ec == std::errc() && p == w.data() + w.size()) {
      if (v.get<double>() == x) return true;
    } else if (value_text(v) == w) {
      return true;
    }
  }
  return false;
}

std::vector<Record> filter(std::vector<Record> records, const std::vector<std::string>& where) {
  for (const std::string& clause : where) {
    const std::size_t eq = clause.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("--where: '{}' is not KEY=VALUE", clause));
    const std::string key = clause.substr(0, eq);
    check_key(records, key, "--where");
    if (std::count_if(where.begin(), where.end(), [&](const std::string& w) { return w.starts_with(key + "="); }) > 1)
      throw UsageError(fmt::format("--where: the key '{}' is given twice; give its values in one clause, "
                                   "{}=A,B",
                                   key, key));
    const std::vector<std::string> wanted = split_list("--where", std::string_view(clause).substr(eq + 1));
    std::erase_if(records, [&](const Record& r) {
      const ojson* v = record_key(r.json, key);
      return !v || !matches(*v, wanted);
    });
    if (records.empty()) throw UsageError(fmt::format("--where {}: no record matches", clause));
  }
  return records;
}

ojson stats_json(const Describe& d) {
  return {{"n", d.n},
          {"nonfinite", d.nonfinite},
          {"mean", number_or_null(d.mean)},
          {"std", number_or_null(d.std)},
          {"se", number_or_null(d.se)},
          {"min", number_or_null(d.min)},
          {"max", number_or_null(d.max)}};
}

std::string csv_cell(const ojson& v) {
  if (v.is_number_float()) {
    const double x = v.get<double>();
    return std::isfinite(x) ? fmt::format("{}", x) : "";
  }
  return csv_text(value_text(v));
}

std::string cell_text(const Describe& d, const std::string& spec) {
  if (d.n == 0) return d.nonfinite ? "null" : "";
  return format_number(d.mean, spec) + (d.nonfinite ? "*" : "");
}

std::string group_report(const std::vector<Group>& groups, const std::vector<std::string>& by,
                         const std::vector<std::string>& metrics, const std::string& format,
                         const ojson& head, const std::string& what) {
  const bool many = metrics.size() > 1;
  if (format == "json") {
    ojson doc = head;
    doc["by"] = by;
    doc["metrics"] = metrics;
    ojson rows = ojson::array();
    for (const Group& g : groups) {
      ojson key = ojson::object();
      for (std::size_t k = 0; k < by.size(); ++k) key[by[k]] = g.key[k];
      ojson row = {{"key", key}, {"metric", g.metric}};
      row.update(stats_json(g.stats));
      rows.push_back(std::move(row));
    }
    doc["groups"] = std::move(rows);
    return dump_json(doc, 2) + "\n";
  }
  if (format == "csv") {
    std::string out;
    for (const std::string& k : by) out += k + ",";
    out += "metric,n,nonfinite,mean,std,se,min,max\n";
    for (const Group& g : groups) {
      for (const ojson& v : g.key) out += csv_cell(v) + ",";
      const Describe& d = g.stats;
      out += fmt::format("{},{},{},{},{},{},{},{}\n", g.metric, d.n, d.nonfinite, csv_cell(d.mean),
                         csv_cell(d.std), csv_cell(d.se), csv_cell(d.min), csv_cell(d.max));
    }
    return out;
  }
  const bool any_nonfinite =
      std::any_of(groups.begin(), groups.end(), [](const Group& g) { return g.stats.nonfinite > 0; });
  TextTable t;
  t.header = by;
  if (many) t.header.push_back("metric");
  for (const char* h : {"n", "mean", "std", "se", "min", "max"}) t.header.push_back(h);
  if (any_nonfinite) t.header.push_back("non-finite");
  for (std::size_t c = 0; c < t.header.size(); ++c) t.right.push_back(c >= by.size() + (many ? 1 : 0));
  for (std::size_t k = 0; k < by.size(); ++k) t.right[k] = groups.empty() || groups[0].key[k].is_number();
  for (const Group& g : groups) {
    std::vector<std::string> row;
    for (const ojson& v : g.key) row.push_back(value_text(v));
    if (many) row.push_back(g.metric);
    const Describe& d = g.stats;
    for (const std::string& cell : {std::to_string(d.n), table_number(d.mean), table_number(d.std),
                                    table_number(d.se), table_number(d.min), table_number(d.max)})
      row.push_back(cell);
    if (any_nonfinite) row.push_back(std::to_string(d.nonfinite));
    t.rows.push_back(std::move(row));
  }
  std::string title = many ? join(metrics) : metrics[0];
  title += by.empty() ? ", all records" : ", by " + printable_line(join(by));  // a line: keys may come from files
  return printable(title + " (" + what + ")\n" + t.render());  // keys and values come from files
}

std::string pivot_report(const Pivot& p, const std::string& format, const ojson& head,
                         const std::string& what) {
  if (format == "json") {
    ojson doc = head;
    ojson mean = ojson::array(), n = ojson::array(), nonfinite = ojson::array();
    for (const auto& row : p.cells) {
      ojson m = ojson::array(), c = ojson::array(), f = ojson::array();
      for (const Describe& d : row) {
        m.push_back(number_or_null(d.mean));
        c.push_back(d.n);
        f.push_back(d.nonfinite);
      }
      mean.push_back(m);
      n.push_back(c);
      nonfinite.push_back(f);
    }
    doc["pivot"] = {{"metric", p.metric},
                    {"rows", {{"key", p.row_key}, {"values", p.rows}}},
                    {"columns", {{"key", p.col_key}, {"values", p.cols}}},
                    {"mean", mean},
                    {"n", n},
                    {"nonfinite", nonfinite},
                    {"averaged_over", p.averaged}};
    return dump_json(doc, 2) + "\n";
  }
  if (format == "csv") {
    std::string out = csv_cell(p.row_key);
    for (const ojson& c : p.cols) out += "," + csv_cell(c);
    out += "\n";
    for (std::size_t i = 0; i < p.rows.size(); ++i) {
      out += csv_cell(p.rows[i]);
      for (const Describe& d : p.cells[i]) out += "," + csv_cell(d.mean);
      out += "\n";
    }
    return out;
  }
  std::size_t lo = SIZE_MAX, hi = 0;
  bool any_nonfinite = false;
  for (const auto& row : p.cells)
    for (const Describe& d : row) {
      lo = std::min(lo, d.n + d.nonfinite);
      hi = std::max(hi, d.n + d.nonfinite);
      any_nonfinite = any_nonfinite || d.nonfinite > 0;
    }
  // One line: keys name what records hold (a newline of theirs must not start a line).
  std::string out = fmt::format("mean {}: {} (rows) x {} (columns)", p.metric, printable_line(p.row_key),
                                printable_line(p.col_key));
  out += lo == hi ? fmt::format(", {} record{} a cell", lo, lo == 1 ? "" : "s")
                  : fmt::format(", {} to {} records a cell", lo, hi);
  if (!p.averaged.empty()) out += ", averaged over " + printable_line(join(p.averaged));
  out += " (" + what + ")\n";
  std::vector<double> means;
  for (const auto& row : p.cells)
    for (const Describe& d : row) means.push_back(d.mean);
  const std::string spec = common_format(means);  // one format for every cell
  TextTable t;
  t.header.push_back(p.row_key);
  t.right.push_back(p.rows.empty() || p.rows[0].is_number());
  for (const ojson& c : p.cols) {
    t.header.push_back(value_text(c));
    t.right.push_back(true);
  }
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    std::vector<std::string> row{value_text(p.rows[i])};
    for (const Describe& d : p.cells[i]) row.push_back(cell_text(d, spec));
    t.rows.push_back(std::move(row));
  }
  out += t.render();
  if (any_nonfinite)
    out += "* some runs of this cell have no finite value (overflow): the mean is over the others; "
           "null: none has\n";
  return printable(out);  // keys and values come from files
}

// The pivot as heatmap panels: one, or one per value of --panels, each with the mean-field
// critical line where an axis is sigma-w2. Both pivot keys must be numbers to be axes.
std::vector<PivotPanel> heatmap_panels(const std::vector<Record>& records, const Pivot& all, const SummarizeOptions& o,
                                       std::vector<std::string>& notes) {
  for (const auto* axis : {&all.rows, &all.cols})
    for (const ojson& v : *axis)
      if (!v.is_number())
        throw UsageError(fmt::format("--plot: '{}' takes the value '{}', not a number, so it cannot be a heatmap "
                                     "axis; pivot over two numeric keys, and split by the other with --panels {}",
                                     axis == &all.rows ? all.row_key : all.col_key, value_text(v),
                                     axis == &all.rows ? all.row_key : all.col_key));
  std::vector<std::pair<std::string, std::vector<Record>>> subsets;
  if (o.panels.empty()) {
    subsets.emplace_back("", records);
  } else {
    check_key(records, o.panels, "--panels");
    if (o.panels == all.row_key || o.panels == all.col_key)
      throw UsageError(fmt::format("--panels {}: that key is already an axis of the pivot", o.panels));
    for (const ojson& v : key_values(records, o.panels)) {
      std::vector<Record> subset;
      for (const Record& r : records)
        if (const ojson* k = record_key(r.json, o.panels); k && *k == v) subset.push_back(r);
      subsets.emplace_back(fmt::format("{} {}", o.panels, value_text(v)), std::move(subset));
    }
  }
  std::vector<PivotPanel> panels;
  for (const auto& [label, subset] : subsets) {
    PivotPanel p{label, o.panels.empty() ? all : make_pivot(subset, all.row_key, all.col_key, all.metric), {}};
    std::string why;
    if (auto line = critical_line(subset, p.pivot, why)) p.overlays.push_back(std::move(*line));
    else if (!why.empty() && std::find(notes.begin(), notes.end(), why) == notes.end()) notes.push_back(why);
    panels.push_back(std::move(p));
  }
  return panels;
}

}  // namespace

int run_summarize(const SummarizeOptions& o) {
  if (o.files.empty())
    throw UsageError("give one or more files of JSONL records from gradflow sweep (- reads stdin)");
  if (!o.panels.empty() && o.plot.empty()) throw UsageError("--panels arranges a --plot: give --plot FILE.svg too");
  ReportSink sink(o.output);
  std::optional<ReportSink> plot = open_plot(o.plot, sink);
  std::vector<std::string> metrics = o.metrics;
  if (metrics.empty()) metrics = {o.layers ? "grad_weight_rel_log10" : "grad_first_last_log10"};
  for (const std::string& m : metrics) check_metric(m, o.layers);
  RecordSet set = read_records(o.files);
  for (const std::string& note : set.notes) std::fprintf(stderr, "gradflow: warning: %s\n", printable_line(note).c_str());
  if (set.records.empty())
    throw UsageError(fmt::format("no records in {}", join(o.files)));
  const std::size_t read = set.records.size();
  const std::vector<Record> records = filter(o.layers ? layer_records(set.records) : std::move(set.records), o.where);
  std::set<std::string> ids;  // runs: with --layers each run gives a record per layer
  for (const Record& r : records) ids.insert(r.json["run_id"].get<std::string>());
  const std::size_t runs = ids.size();

  std::string what = fmt::format("{} record{}", runs, runs == 1 ? "" : "s");
  if (o.layers) what += fmt::format(", {} layers", records.size());
  if (runs != read) what += fmt::format(" of {} matching --where", read);
  what += fmt::format(" from {} file{}", o.files.size(), o.files.size() == 1 ? "" : "s");
  if (set.duplicates) what += fmt::format(", {} duplicate{} dropped", set.duplicates, set.duplicates == 1 ? "" : "s");
  ojson head = {{"schema_version", kSchemaVersion}, {"tool", "gradflow"}, {"command", "summarize"},
                {"files", o.files}, {"records", records.size()}, {"duplicates", set.duplicates},
                {"where", o.where}, {"layers", o.layers}};

  if (!o.pivot.empty()) {
    if (o.pivot.size() != 2)
      throw UsageError(fmt::format("--pivot: give two keys, ROW,COL (e.g. depth,activation), not {}", join(o.pivot, ",")));
    if (o.pivot[0] == o.pivot[1])
      throw UsageError(fmt::format("--pivot: give two different keys, not {} twice", o.pivot[0]));
    if (!o.by.empty()) throw UsageError("--pivot and --by: give one (a pivot's cells average over every other key)");
    if (metrics.size() != 1)
      throw UsageError(fmt::format("--pivot shows one metric, and --metric gives {}", metrics.size()));
    for (const std::string& key : o.pivot) check_key(records, key, "--pivot");
    const Pivot p = make_pivot(records, o.pivot[0], o.pivot[1], metrics[0]);
    if (plot) {
      std::vector<std::string> notes;
      const std::vector<PivotPanel> panels = heatmap_panels(records, p, o, notes);
      std::vector<std::string> axes = o.pivot;
      if (!o.panels.empty()) axes.push_back(o.panels);
      plot->write(pivot_plot(panels, fixed_settings(records, axes) + " (" + what + ")", notes));
    }
    sink.write(pivot_report(p, o.format, head, what));
    return kExitOk;
  }
  if (plot) throw UsageError("--plot draws a --pivot: give --pivot ROW,COL over two numeric keys");

  std::vector<std::string> by = o.by;
  if (by.empty())
    for (const std::string& key : varying_keys(records))
      if (key != "seed") by.push_back(key);
  for (const std::string& key : by) check_key(records, key, "--by");
  sink.write(group_report(group_records(records, by, metrics), by, metrics, o.format, head, what));
  return kExitOk;
}

}  // namespace gf
