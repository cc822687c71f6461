#include "report/report_seeds.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/csv_text.h"
#include "base/seed_list.h"
#include "base/suggest.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "report/report_csv.h"
#include "report/report_json.h"
#include "report/report_table.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

namespace {

// "-0.57±0.03"; "-" when undefined; the SE left out when there is none (one finite seed).
std::string pm(const Describe& m, std::string_view spec, double scale, const Style& s) {
  if (!std::isfinite(m.mean)) return "-";
  auto f = [&](double v) { return fmt::format(fmt::runtime(std::string("{:") + std::string(spec) + "}"), scale * v); };
  if (!std::isfinite(m.se)) return f(m.mean);
  return f(m.mean) + (s.utf8 ? "±" : "+-") + fmt::format(fmt::runtime(std::string("{:") + std::string(spec) + "}"),
                                                         scale * m.se).substr(spec.front() == '+' ? 1 : 0);
}

// Display widths count "±" as one column.
std::size_t columns(const std::string& text) {
  std::size_t n = 0;
  for (const unsigned char ch : text) n += (ch & 0xC0) != 0x80;
  return n;
}

// The SE to two significant digits and the mean to the same decimal place: 2.3220±0.0038.
std::string pm_rounded(const Describe& m, const Style& s) {
  if (!std::isfinite(m.mean)) return "-";
  if (!std::isfinite(m.se) || m.se == 0 || m.se < 1e-9 * std::fabs(m.mean))
    return fmt::format("{:.4g}", m.mean) + (std::isfinite(m.se) ? (s.utf8 ? "±0" : "+-0") : "");
  const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(m.se))));
  return fmt::format("{:.{}f}{}{:.{}f}", m.mean, decimals, s.utf8 ? "±" : "+-", m.se, decimals);
}

std::size_t metric_index(std::string_view key) {
  for (std::size_t k = 0; k < layer_metrics().size(); ++k)
    if (layer_metrics()[k].key == key) return k;
  return 0;
}

// The per-layer metrics shown in the one-activation table: the detailed table's columns (metrics.h),
// without those shown only when nonzero.
std::vector<std::size_t> seed_columns() {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < layer_metrics().size(); ++k) {
    const TableColumn& c = layer_metrics()[k].column;
    if (!c.header.empty() && !c.when_nonzero) out.push_back(k);
  }
  return out;
}

std::string header_line(const SeedAnalysis& a, const Style& s) {
  const AnalysisConfig& c = a.config;
  return fmt::format("gradflow analyze: {}, seeds {} ({} runs per activation)\nmean {} standard error over the "
                     "seeds (sample sd / sqrt(n))\n",
                     run_setting(c), seeds_text(a.seeds), a.seeds.size(), s.utf8 ? "±" : "+-");
}

// The k-th run's name in titles: its activation, or with --model the model file's (as analyze
// names a single seed's run).
std::string title(const SeedAnalysis& a, std::size_t k) {
  return a.config.model ? run_title(a.config, a.run(0, k)) : a.stats[k].activation;
}

// Columns padded to their widest cell, right-aligned (the first left-aligned when left_first).
std::string render(const std::vector<std::vector<std::string>>& rows, bool left_first = false) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (width.size() <= k) width.push_back(0);
      width[k] = std::max(width[k], columns(row[k]));
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t k = 0; k < row.size(); ++k) {
      const bool left = k == 0 && left_first;
      const std::string pad(width[k] - columns(row[k]), ' ');
      line += (k ? "  " : "") + (left ? row[k] + pad : pad + row[k]);
    }
    out += line + "\n";
  }
  return out;
}

std::string layer_table(const SeedAnalysis& a, const TableOptions& o) {
  const std::vector<Index> shown = shown_layers(a.config.layer_count(), o);
  std::vector<std::vector<std::string>> rows;
  const bool one = a.stats.size() == 1;
  std::string out;
  if (one) {
    out += o.style.paint(fmt::format("{} ({})", title(a, 0), a.stats[0].init), Tone::bold) + "\n";
    std::vector<std::string> head{"layer"};
    for (std::size_t k : seed_columns()) head.emplace_back(layer_metrics()[k].column.header);
    rows.push_back(head);
    for (Index l : shown) {
      std::vector<std::string> row{std::to_string(l)};
      for (std::size_t k : seed_columns()) {
        const TableColumn& c = layer_metrics()[k].column;
        row.push_back(pm(a.stats[0].layers[static_cast<std::size_t>(l - 1)][k], c.spec, c.percent ? 100 : 1, o.style));
      }
      rows.push_back(row);
    }
  } else {
    std::vector<std::string> head{"layer"};
    for (std::size_t k = 0; k < a.stats.size(); ++k) head.insert(head.end(), {title(a, k) + " grad", "sat%", "dead%"});
    rows.push_back(head);
    for (Index l : shown) {
      std::vector<std::string> row{std::to_string(l)};
      for (const SeedStats& s : a.stats) {
        const auto& m = s.layers[static_cast<std::size_t>(l - 1)];
        row.push_back(pm(m[metric_index("grad_weight_rel_log10")], "+.2f", 1, o.style));
        row.push_back(pm(m[metric_index("saturated_frac")], ".1f", 100, o.style));
        row.push_back(pm(m[metric_index("dead_units_frac")], ".1f", 100, o.style));
      }
      rows.push_back(row);
    }
    std::vector<std::string> inits;
    for (std::size_t k = 0; k < a.stats.size(); ++k) inits.push_back(fmt::format("{} ({})", title(a, k), a.stats[k].init));
    out += o.style.paint(join(inits), Tone::bold) + "\n";
  }
  out += render(rows);
  if (static_cast<Index>(shown.size()) != a.config.layer_count())
    out += fmt::format("({} of {} layers shown; --all-layers shows every one)\n", shown.size(), a.config.layer_count());
  out += one ? "h: pre-activations, a: activations; sat%/satU%: unit-samples/units saturated; inact%/dead%: "
               "slope exactly 0;\nlog|dh|, log|dW|: log10 of gradient norms; rel: log|dW| minus the last layer's; coher: "
               "sign coherence of dW rows\n"
             : "grad: log10 of |dL/dW| relative to the last hidden layer; sat%: unit-samples saturated; dead%: units "
               "flat on the whole batch\n";
  return out;
}

std::string summary_rows(const SeedAnalysis& a, const Style& s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{"summary"};
  for (std::size_t k = 0; k < a.stats.size(); ++k) head.push_back(title(a, k));
  rows.push_back(head);
  for (std::size_t k = 0; k < summary_metrics().size(); ++k) {
    std::vector<std::string> row{std::string(summary_metrics()[k].key)};
    for (const SeedStats& st : a.stats) row.push_back(pm_rounded(st.summary[k], s));
    rows.push_back(row);
  }
  return "\n" + render(rows, true);
}

std::string verdict_lines(const SeedAnalysis& a, const Style& s) {
  std::string out = "\n";
  for (const SeedStats& st : a.stats) {
    std::vector<std::string> parts;
    for (const auto& [verdict, n] : st.verdicts) parts.push_back(fmt::format("{} in {} of {} seeds", verdict, n, st.runs));
    out += s.paint(st.activation, Tone::bold) + ": " + join(parts) +
           (st.finite < st.runs ? fmt::format(" ({} overflowed)", st.runs - st.finite) : "") + "\n";
  }
  return out;
}

ojson mean_se_json(const Describe& m) {
  return {{"mean", number_or_null(m.mean)}, {"se", number_or_null(m.se)}, {"n", m.n}};  // n: finite values
}

}  // namespace

std::string seeds_table(const SeedAnalysis& a, const TableOptions& o) {
  return trim_line_ends(header_line(a, o.style) + "\n" + layer_table(a, o) + summary_rows(a, o.style) +
                        verdict_lines(a, o.style));
}

std::string seeds_json(const SeedAnalysis& a, bool per_seed) {
  ojson config = config_json(a.config);
  config["seed"] = seeds_text(a.seeds);
  ojson stats = ojson::array();
  for (const SeedStats& s : a.stats) {
    ojson summary = ojson::object();
    for (std::size_t k = 0; k < summary_metrics().size(); ++k)
      summary[std::string(summary_metrics()[k].key)] = mean_se_json(s.summary[k]);
    ojson layers = ojson::array();
    const RunResult& first = *std::find_if(a.runs.begin(), a.runs.end(), [&](const RunResult& r) { return r.activation == s.activation; });
    for (std::size_t l = 0; l < s.layers.size(); ++l) {
      const LayerStats& shape = first.pass.layers[l];
      ojson j = {{"layer", shape.layer}, {"fan_in", shape.fan_in}, {"width", shape.width}};
      for (std::size_t k = 0; k < layer_metrics().size(); ++k)
        j[std::string(layer_metrics()[k].key)] = mean_se_json(s.layers[l][k]);
      layers.push_back(std::move(j));
    }
    ojson verdicts = ojson::object();
    for (const auto& [v, n] : s.verdicts) verdicts[v] = n;
    stats.push_back({{"activation", s.activation}, {"init", s.init}, {"runs", s.runs}, {"finite", s.finite},
                     {"verdicts", verdicts}, {"summary", summary}, {"layers", layers}});
  }
  ojson doc = {{"schema_version", kSchemaVersion}, {"tool", "gradflow"}, {"version", GRADFLOW_VERSION},
               {"command", "analyze"}, {"context", context_json(a.config.dtype)}, {"config", config},
               {"seeds", a.seeds}, {"statistics", stats}};
  if (per_seed) {
    ojson runs = ojson::array();
    for (std::size_t s = 0; s < a.seeds.size(); ++s)
      for (std::size_t k = 0; k < a.config.activations.size(); ++k) {
        ojson r = {{"seed", a.seeds[s]}};
        r.update(run_json(a.run(s, k)));
        runs.push_back(std::move(r));
      }
    doc["runs"] = std::move(runs);
  }
  return doc.dump(2) + "\n";
}

std::string seeds_csv(const SeedAnalysis& a) {
  std::string out = "activation,init,layer,fan_in,width";
  for (const LayerMetric& m : layer_metrics()) out += fmt::format(",{0}_mean,{0}_se,{0}_n", m.key);
  out += '\n';
  for (std::size_t k = 0; k < a.stats.size(); ++k) {
    const SeedStats& s = a.stats[k];
    for (std::size_t l = 0; l < s.layers.size(); ++l) {
      const LayerStats& shape = a.run(0, k).pass.layers[l];
      out += fmt::format("{},{},{},{},{}", csv_text(s.activation), csv_text(s.init), shape.layer, shape.fan_in,
                         shape.width);
      for (const Describe& m : s.layers[l]) out += fmt::format(",{},{},{}", csv_number(m.mean), csv_number(m.se), m.n);
      out += '\n';
    }
  }
  return out;
}

}  // namespace gf
