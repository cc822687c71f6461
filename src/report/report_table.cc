#include "report/report_table.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/utf8.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "report/text_table.h"

namespace gf {
namespace {

constexpr int kBarWidth = 10;

std::string cell(double v, std::string_view spec, int width) {
  if (!std::isfinite(v)) return fmt::format("{:>{}}", "-", width);
  return fmt::format("{:>{}}", fmt::format(fmt::runtime(std::string("{:") + std::string(spec) + "}"), v), width);
}

std::string pct(double frac, int width) { return cell(100.0 * frac, ".1f", width); }

// A bar whose length is v's place between lo and hi, in eighths of a character where the
// terminal can draw them.
std::string bar(double v, double lo, double hi, const Style& s) {
  if (!std::isfinite(v)) return std::string(kBarWidth, ' ');
  const double frac = std::clamp((v - lo) / (hi - lo), 0.0, 1.0);
  const int eighths = static_cast<int>(std::lround(frac * kBarWidth * 8));
  std::string out;
  if (s.utf8) {
    static const char* kParts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    for (int i = 0; i < eighths / 8; ++i) out += "█";
    out += kParts[eighths % 8];
  } else {
    out.assign(static_cast<std::size_t>((eighths + 4) / 8), '#');
  }
  const int cells = s.utf8 ? eighths / 8 + (eighths % 8 ? 1 : 0) : (eighths + 4) / 8;
  out.append(static_cast<std::size_t>(kBarWidth - cells), ' ');
  return out;
}

}  // namespace

std::string network_phrase(const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  const auto [lo, hi] = std::minmax_element(w.begin() + 1, w.end());
  const std::string widths = *lo == *hi ? fmt::format("width {}", *lo) : fmt::format("widths {}..{}", *lo, *hi);
  std::string depth = fmt::format("depth {}", c.depth);
  if (c.residual != 0) {
    depth += fmt::format(" ({} residual blocks of {}", c.depth / c.residual, c.residual);
    if (c.layer_count() != c.depth) depth += fmt::format(", after an input projection: {} layers", c.layer_count());
    depth += ")";
  }
  return depth + ", " + widths;
}

std::string run_setting(const AnalysisConfig& c) {
  const std::string network =
      c.model ? fmt::format("--model {}: {}", printable_line(c.model_path), network_phrase(c)) : network_phrase(c);
  const std::string input =
      c.data ? fmt::format("the first rows of {}", printable_line(c.data_path)) : std::string(input_name(c.input));
  return fmt::format("{}, batch {}, input {}, loss {}, {}", network, c.batch, input, loss_name(c.loss),
                     dtype_name(c.dtype));
}

std::string run_title(const AnalysisConfig& c, const RunResult& r) {
  if (!c.model) return r.activation;
  const std::size_t slash = c.model_path.find_last_of('/');
  return printable_line(slash == std::string::npos ? c.model_path : c.model_path.substr(slash + 1));
}

namespace {

// --model: the layer's name in the file, padded to the longest shown (none without a model);
// control characters in it escaped (printable_line), so a name cannot move the cursor or recolour
// the terminal.
std::string name_cell(const RunResult& r, Index layer, std::size_t width) {
  if (r.layer_names.empty()) return "";
  const auto k = static_cast<std::size_t>(layer - 1);
  return fmt::format(" {:<{}}", k < r.layer_names.size() ? printable_line(r.layer_names[k]) : "", width);
}

std::size_t name_width(const RunResult& r) {
  std::size_t w = 4;  // "name"
  for (const std::string& n : r.layer_names) w = std::max(w, printable_line(n).size());
  return w;
}

std::string header_line(const AnalysisConfig& c) {
  return fmt::format("gradflow analyze: {}, seed {}\n", run_setting(c), c.seed);
}

Tone verdict_tone(std::string_view v) {
  if (v == "healthy") return Tone::good;
  if (v == "saturated" || v == "not_zero_centred") return Tone::warn;
  return Tone::bad;
}

// Sentences end in ": <verdict>"; the verdict is coloured by how bad it is.
std::string verdicts(const AnalysisResult& result, const Style& s) {
  std::string out = "\n";
  for (const RunResult& r : result.runs) {
    for (std::size_t i = 0; i < r.summary.sentences.size(); ++i) {
      const std::string sentence = printable_line(r.summary.sentences[i]);
      const std::size_t head = sentence.find(": "), tail = sentence.rfind(": ");
      out += s.paint(sentence.substr(0, head), Tone::bold);
      out += sentence.substr(head, tail + 2 - head);
      out += s.paint(sentence.substr(tail + 2), verdict_tone(r.summary.verdict[i]));
      out += '\n';
    }
    for (const std::string& note : r.summary.notes)
      out += s.paint("note", Tone::bold) + ": " + printable_line(note) + '\n';
  }
  return out;
}

// The run-level numbers side by side: what the verdicts are drawn from.
std::string summary_block(const AnalysisResult& result, const Style& s) {
  auto row = [&](std::string_view label, auto&& value) {
    std::string line = fmt::format("{:<22}", label);
    for (const RunResult& r : result.runs) line += fmt::format("{:>12}", value(r.summary));
    return line + "\n";
  };
  auto or_dash = [](double v, std::string text) { return std::isfinite(v) ? text : std::string("-"); };
  std::string out = "\n" + std::string(22, ' ');
  for (const RunResult& r : result.runs) out += s.paint(fmt::format("{:>12}", run_title(result.config, r)), Tone::bold);
  out += "\n";
  out += row("grad layer 1 / L", [&](const Summary& m) {
    return or_dash(m.grad_first_last_log10, fmt::format("10^{:+.1f}", m.grad_first_last_log10));
  });
  out += row("factor per layer", [&](const Summary& m) {
    return or_dash(m.grad_factor_per_layer, "x" + factor_text(m.grad_factor_per_layer));
  });
  out += row("signal layer L / 1", [&](const Summary& m) {
    return or_dash(m.signal_first_last_log10, fmt::format("10^{:+.1f}", m.signal_first_last_log10));
  });
  out += row("signal per layer", [&](const Summary& m) {
    return or_dash(m.signal_factor_per_layer, fmt::format("x{:.2f}", m.signal_factor_per_layer));
  });
  out += row("largest |dW|", [&](const Summary& m) {
    return or_dash(m.grad_weight_log10_max, fmt::format("10^{:+.1f}", m.grad_weight_log10_max));
  });
  out += row("saturated (tails)", [&](const Summary& m) {
    return or_dash(m.saturated_frac_mean, fmt::format("{:.1f}%", 100 * (m.saturated_frac_mean - m.inactive_frac_mean)));
  });
  out += row("dead units", [&](const Summary& m) {
    return or_dash(m.dead_units_frac, fmt::format("{:.1f}%", 100 * m.dead_units_frac));
  });
  out += row("|act mean| / rms", [&](const Summary& m) {
    return or_dash(m.act_offset_mean, fmt::format("{:.0f}%", 100 * m.act_offset_mean));
  });
  out += row("dW sign coherence", [&](const Summary& m) {
    return or_dash(m.dw_sign_coherence_mean, fmt::format("{:.2f}", m.dw_sign_coherence_mean));
  });
  return out;
}

// --jacobian: its figures with a table column, one column per run.
std::string jacobian_block(const AnalysisResult& result) {
  if (!result.config.jacobian) return "";
  const Index probes = result.config.jacobian_probes;
  std::string out =
      probes == 0 ? fmt::format("\nJacobian d a_L / d x ({} samples)\n", result.config.jacobian_samples)
                  : fmt::format("\nJacobian d a_L / d x ({} samples), ESTIMATED from {} random probes each\n",
                                result.config.jacobian_samples, probes);
  for (const JacobianMetric& m : jacobian_metrics()) {
    if (m.header.empty() || (m.probes_only && probes == 0)) continue;
    out += fmt::format("{:<22}", m.header);
    for (const RunResult& r : result.runs) {
      const double v = r.jacobian ? (*r.jacobian).*m.field : kNaN;
      out += fmt::format("{:>12}", std::isfinite(v) ? fmt::format("{:.4g}", v) : "-");
    }
    out += '\n';
  }
  // --jacobian-depths: the spread of each partial d a_L / d a_l, in the order given
  const std::vector<Index>& depths = result.config.jacobian_depths;
  for (std::size_t i = 0; i < depths.size(); ++i) {
    out += fmt::format("{:<22}", fmt::format("var/mean^2 from l={}", depths[i]));
    for (const RunResult& r : result.runs) {
      const double v = i < r.jacobian_partials.size() ? r.jacobian_partials[i].stats.s2_var_rel : kNaN;
      out += fmt::format("{:>12}", std::isfinite(v) ? fmt::format("{:.4g}", v) : "-");
    }
    out += '\n';
  }
  if (!depths.empty()) out += "from l: var s^2 / mean^2 of d a_L / d a_l (l = 0: J; JSON's jacobian_partials has every figure)\n";
  if (probes != 0)
    out += fmt::format("--jacobian-probes {}: mean s2, var s2 and var/mean2 are unbiased estimates from J V, s.e. their\n"
                       "standard errors (jackknife); the figures that need the singular values need the exact J (-)\n",
                       probes);
  return out +
         "s: singular values of J; rank: share of s above the rank tolerance, over which log smin and\n"
         "log cond are taken; isometry: det(JJ^T)^(1/n) / (tr(JJ^T)/n), 1 when every s is equal\n";
}

// With --saturated-when, bounded activations are judged by their output instead.
std::string by_value_note(const AnalysisConfig& c) {
  if (!c.saturated_when) return "";
  return fmt::format(",\n  or for bounded activations with |output - centre| above {:g} x half the range (--saturated-when)",
                     *c.saturated_when);
}

std::string thinned_note(Index shown, Index depth) {
  if (shown == depth) return "";
  return fmt::format("({} of {} layers shown; --all-layers shows every one)\n", shown, depth);
}

std::string side_by_side(const AnalysisResult& result, const TableOptions& o) {
  const Style& s = o.style;
  const std::vector<Index> rows = shown_layers(result.config.layer_count(), o);
  double lo = 0, hi = 0;
  for (const RunResult& r : result.runs)
    for (const LayerStats& l : r.pass.layers)
      if (std::isfinite(l.grad_weight_rel_log10)) {
        lo = std::min(lo, l.grad_weight_rel_log10);
        hi = std::max(hi, l.grad_weight_rel_log10);
      }
  lo = std::min(lo, hi - 1);

  constexpr int kGroup = 7 + 1 + 6 + 1 + 6 + 2 + kBarWidth + 3;
  const RunResult& first = result.runs.front();
  const std::size_t names = first.layer_names.empty() ? 0 : name_width(first) + 1;
  std::string out = header_line(result.config) + "\n      " + std::string(names, ' ');
  for (const RunResult& r : result.runs) {
    const std::string title = fmt::format("{} ({})", run_title(result.config, r), r.init);
    out += s.paint(title, Tone::bold) +
           std::string(static_cast<std::size_t>(std::max<int>(1, kGroup - static_cast<int>(title.size()))), ' ');
  }
  out += "\nlayer " + (names ? fmt::format("{:<{}} ", "name", names - 1) : std::string());
  for (std::size_t i = 0; i < result.runs.size(); ++i)
    out += fmt::format("{:>7} {:>6} {:>6}  {:<{}}   ", "grad", "sat%", "dead%", "", kBarWidth);
  out += '\n';
  for (Index layer : rows) {
    out += fmt::format("{:>5}", layer) + (names ? name_cell(first, layer, names - 1) : std::string()) + " ";
    for (const RunResult& r : result.runs) {
      const LayerStats& l = r.pass.layers[static_cast<std::size_t>(layer - 1)];
      out += cell(l.grad_weight_rel_log10, "+.2f", 7) + " " + pct(l.saturated_frac, 6) + " " +
             pct(l.dead_units_frac, 6) + "  " + s.paint(bar(l.grad_weight_rel_log10, lo, hi, s), Tone::dim) +
             "   ";
    }
    out += '\n';
  }
  out += thinned_note(static_cast<Index>(rows.size()), result.config.layer_count());
  out += fmt::format(
      "\ngrad: log10 of |dL/dW| relative to the last hidden layer (0: as large, -3: a thousandth)\n"
      "sat%: unit-samples with slope below {:g} x the maximum (relu's x<0 half included){};\n"
      "dead%: units whose slope is exactly 0 on the whole batch\n",
      result.config.sat_eps, by_value_note(result.config));
  return out + summary_block(result, s) + jacobian_block(result) + verdicts(result, s);
}

// The detailed table's columns: each metric's declared column, those shown only when nonzero
// last and only where some layer has a value above 0.
std::vector<const LayerMetric*> detailed_columns(const std::vector<LayerStats>& layers) {
  std::vector<const LayerMetric*> out;
  for (const bool rare : {false, true})
    for (const LayerMetric& m : layer_metrics()) {
      if (m.column.header.empty() || m.column.when_nonzero != rare) continue;
      if (rare && std::none_of(layers.begin(), layers.end(), [&](const LayerStats& l) { return l.*m.field > 0; }))
        continue;
      out.push_back(&m);
    }
  return out;
}

std::string column_cell(const LayerMetric& m, double v) {
  return m.column.percent ? pct(v, m.column.width) : cell(v, m.column.spec, m.column.width);
}

// Residual nets: one row per block, a column per declared block metric (metrics.h).
std::string blocks_table(const RunResult& r, const TableOptions& o) {
  if (r.pass.blocks.empty()) return "";
  TextTable t;
  t.header = {"block", "layers"};
  for (const BlockMetric& m : block_metrics()) t.header.emplace_back(m.key);
  t.right.assign(t.header.size(), true);
  const auto n = static_cast<Index>(r.pass.blocks.size());
  for (Index k : shown_layers(n, o)) {  // thinned as the layers are
    const BlockStats& b = r.pass.blocks[static_cast<std::size_t>(k - 1)];
    std::vector<std::string> row = {std::to_string(b.block), fmt::format("{}-{}", b.first_layer, b.last_layer)};
    for (const BlockMetric& m : block_metrics()) row.push_back(table_number(b.*m.field));
    t.rows.push_back(std::move(row));
  }
  std::string out = "\nresidual blocks (s' = s + alpha F(s)):\n" + t.render();
  if (static_cast<Index>(t.rows.size()) != n) out += fmt::format("({} of {} blocks shown)\n", t.rows.size(), n);
  for (const BlockMetric& m : block_metrics()) out += fmt::format("{}: {}\n", m.key, m.description);
  return out;
}

std::string detailed(const AnalysisResult& result, const TableOptions& o) {
  const Style& s = o.style;
  const RunResult& r = result.runs.front();
  const std::vector<Index> rows = shown_layers(result.config.layer_count(), o);
  const std::vector<const LayerMetric*> columns = detailed_columns(r.pass.layers);
  std::string out = header_line(result.config);
  out += '\n';
  out += s.paint(fmt::format("{} ({})", run_title(result.config, r), r.init), Tone::bold);
  out += '\n';
  const std::size_t names = r.layer_names.empty() ? 0 : name_width(r);
  out += fmt::format("{:>5}", "layer") + (names ? fmt::format(" {:<{}}", "name", names) : std::string()) +
         fmt::format(" {:>6}", "width");
  for (const LayerMetric* m : columns) out += fmt::format(" {:>{}}", m->column.header, m->column.width);
  out += '\n';
  for (Index layer : rows) {
    const LayerStats& l = r.pass.layers[static_cast<std::size_t>(layer - 1)];
    out += fmt::format("{:>5}", l.layer) + name_cell(r, l.layer, names) + fmt::format(" {:>6}", l.width);
    for (const LayerMetric* m : columns) out += " " + column_cell(*m, l.*m->field);
    out += '\n';
  }
  out += thinned_note(static_cast<Index>(rows.size()), result.config.layer_count());
  // The key: one paragraph for the first columns, then a line per column that declares its own.
  out += fmt::format(
      "\nh: pre-activations, a: activations; sat%/satU%: unit-samples/units with slope below {:g} x "
      "max{};\ninact%/dead%: unit-samples/units with slope exactly 0; log|dh|, log|dW|: log10 of "
      "gradient norms;\nrel: log|dW| minus the last layer's; coher: sign coherence of dW rows (1: "
      "one sign per row)\n",
      result.config.sat_eps, by_value_note(result.config));
  for (const LayerMetric* m : columns)
    if (!m->column.legend.empty())
      out += fmt::format("{}: {}\n", m->column.header,
                         fmt::format(fmt::runtime(m->column.legend), fmt::arg("dtype", dtype_name(result.config.dtype))));
  return out + blocks_table(r, o) + summary_block(result, s) + jacobian_block(result) + verdicts(result, s);
}

}  // namespace

std::vector<Index> shown_layers(Index depth, const TableOptions& o) {
  std::vector<Index> rows;
  if (o.all_layers || depth <= o.max_rows) {
    for (Index l = 1; l <= depth; ++l) rows.push_back(l);
    return rows;
  }
  for (Index i = 0; i < o.max_rows; ++i) {
    const Index l = 1 + static_cast<Index>(std::llround(static_cast<double>(i) * static_cast<double>(depth - 1) /
                                                        static_cast<double>(o.max_rows - 1)));
    if (rows.empty() || rows.back() != l) rows.push_back(l);
  }
  return rows;
}

std::string analysis_table(const AnalysisResult& result, const TableOptions& o) {
  return trim_line_ends(result.runs.size() == 1 ? detailed(result, o) : side_by_side(result, o));
}

std::string trim_line_ends(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    std::string_view line(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    out += line;
    out += '\n';
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

}  // namespace gf
