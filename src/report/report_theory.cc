#include "report/report_theory.h"

#include <cmath>
#include <fmt/format.h>

#include "base/csv_text.h"
#include "base/json_io.h"
#include "report/report_json.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

namespace {

std::string fmt_num(double v, std::string_view spec = ".4g") {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (!std::isfinite(v)) return "-";
  if (std::abs(v) < 1e-12) v = 0;  // quadrature's rounding, not a sign
  return fmt::format(fmt::runtime(std::string("{:") + std::string(spec) + "}"), v);
}

std::string theory_cell(double v, std::string_view spec, int width) { return fmt::format("{:>{}}", fmt_num(v, spec), width); }

ojson fixed_json(const FixedPoint& f) {
  return {{"q_star", number_or_null(f.q_star)},
          {"q_star_finite", std::isfinite(f.q_star)},
          {"chi_1", number_or_null(f.chi_1)},
          {"chi_q", number_or_null(f.chi_q)},
          {"c_star", number_or_null(f.c_star)},
          {"chi_c", number_or_null(f.chi_c)},
          {"xi_q", number_or_null(f.xi_q)},
          {"xi_c", number_or_null(f.xi_c)},
          {"xi_grad", number_or_null(f.xi_grad)},
          {"phase", phase_name(f.phase)}};
}

ojson head_json(std::string_view command, const TheoryConfig& c) {
  return {{"schema_version", kSchemaVersion},
          {"tool", "gradflow"},
          {"version", GRADFLOW_VERSION},
          {"command", command},
          {"context", context_json(Dtype::f64)},
          {"config", theory_config_json(c)}};
}

std::string direction(const FixedPoint& f) {
  if (f.phase == Phase::critical) return "critical: gradients keep their size";
  const double per_layer = std::sqrt(f.chi_1);
  return fmt::format("{}: gradients {} x{:.3f} per layer", phase_name(f.phase),
                     f.phase == Phase::ordered ? "shrink" : "grow", per_layer);
}

}  // namespace

ojson theory_config_json(const TheoryConfig& c) {
  auto text_or_null = [](const std::string& s) { return s.empty() ? ojson(nullptr) : ojson(s); };
  ojson j = {{"activation", c.activations},
          {"init", c.init},
          {"sigma-w2", text_or_null(c.sigma_w2_text)},
          {"sigma-b2", text_or_null(c.sigma_b2_text)},
          {"weight-std", c.weight_std ? ojson(*c.weight_std) : ojson(nullptr)},
          {"gain", c.gain ? ojson(*c.gain) : ojson(nullptr)},
          {"bias-init", c.bias_init},
          {"depth", c.depth},
          {"width", c.width},
          {"batch", c.batch},
          {"input", input_name(c.input)},
          {"leaky-slope", c.leaky_slope},
          {"critical-tol", c.critical_tol},
          {"phase-diagram", c.phase_diagram}};
  if (c.jacobian) j["jacobian"] = true;  // only when asked: documents without it are unchanged
  if (c.residual != 0) {  // likewise only when given
    j["residual"] = c.residual;
    j["residual-scale"] = c.residual_scale;
  }
  if (c.norm != NormKind::none) {
    j["norm"] = norm_name(c.norm);
    j["norm-eps"] = c.norm_eps;
    if (c.residual != 0) j["norm-position"] = norm_position_name(c.norm_position);
  }
  return j;
}

std::string theory_json(const TheoryConfig& c, const std::vector<TheoryResult>& results) {
  ojson out = ojson::array();
  for (const TheoryResult& r : results) {
    ojson layers = ojson::array();
    for (const LayerTheory& l : r.layers)
      layers.push_back({{"layer", l.layer},
                        {"q", number_or_null(l.q)},
                        {"c", number_or_null(l.c)},
                        {"chi", number_or_null(l.chi)},
                        {"grad_preact_rel_log10", number_or_null(l.grad_preact_rel_log10)},
                        {"grad_weight_rel_log10", number_or_null(l.grad_weight_rel_log10)},
                        {"dead_units_frac", number_or_null(l.dead_units_frac)}});
    ojson j = {{"activation", r.activation},
               {"init", r.init},
               {"method", r.method},
               {"sigma_w2", r.sigma_w2},
               {"sigma_b2", r.sigma_b2},
               {"bias", r.bias}};
    const ojson fixed = fixed_json(r.fixed);
    for (auto& [k, v] : fixed.items()) j[k] = v;
    j["critical_sigma_w2"] = number_or_null(r.critical_sigma_w2);
    j["trainable_depth"] = number_or_null(r.trainable_depth);
    j["born_dead_prob"] = number_or_null(r.born_dead);
    if (r.jacobian)
      j["jacobian"] = {{"jac_s2_mean_log10", number_or_null(r.jacobian->s2_mean_log10)},
                       {"jac_s2_var_rel", number_or_null(r.jacobian->s2_var_rel)}};
    // BatchNorm's explosion rate, under the name a reader of Yang et al. 2019 looks for.
    if (c.norm == NormKind::batch) j["bn_grad2_growth_per_layer"] = number_or_null(r.fixed.chi_1);
    if (!r.blocks.empty()) {
      ojson blocks = ojson::array();
      for (const BlockTheory& b : r.blocks)
        blocks.push_back({{"block", b.block},
                          {"stream_rms", number_or_null(b.stream_rms)},
                          {"grad_stream_rel_log10", number_or_null(b.grad_stream_rel_log10)},
                          {"branch_ratio", number_or_null(b.branch_ratio)}});
      j["blocks"] = std::move(blocks);
    }
    if (!r.notes.empty()) j["notes"] = r.notes;
    j["layers"] = std::move(layers);
    out.push_back(std::move(j));
  }
  ojson doc = head_json("theory", c);
  doc["results"] = std::move(out);
  return dump_json(doc, 2) + "\n";
}

std::string theory_csv(const std::vector<TheoryResult>& results) {
  std::string out = "activation,init,sigma_w2,sigma_b2,layer,q,c,chi,grad_preact_rel_log10,grad_weight_rel_log10,dead_units_frac\n";
  for (const TheoryResult& r : results)
    for (const LayerTheory& l : r.layers)
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", csv_text(r.activation), csv_text(r.init), csv_number(r.sigma_w2),
                         csv_number(r.sigma_b2), l.layer, csv_number(l.q), csv_number(l.c), csv_number(l.chi),
                         csv_number(l.grad_preact_rel_log10), csv_number(l.grad_weight_rel_log10),
                         csv_number(l.dead_units_frac));
  return out;
}

std::string theory_table(const TheoryConfig& c, const std::vector<TheoryResult>& results, const TableOptions& o) {
  const Style& s = o.style;
  std::string out = fmt::format(
      "gradflow theory: mean-field predictions at initialisation; depth {}, width {}, batch {}, input {}\n",
      c.depth, c.width, c.batch, input_name(c.input));
  for (const TheoryResult& r : results) {
    const FixedPoint& f = r.fixed;
    out += '\n';
    out += s.paint(fmt::format("{} ({})", r.activation, r.init), Tone::bold);
    out += fmt::format(": sigma_w2 {:g}, sigma_b2 {:g}{}; {}\n", r.sigma_w2, r.sigma_b2,
                       r.bias != 0 ? fmt::format(", bias {:g}", r.bias) : "", r.method);
    if (std::isfinite(f.q_star))
      out += fmt::format("  length map    q_1 {} -> q* {} (settles over xi_q {} layers)\n", fmt_num(r.layers.front().q),
                         fmt_num(f.q_star), fmt_num(f.xi_q, ".3g"));
    else
      out += fmt::format("  length map    q_1 {} -> diverges: q_l grows without bound\n", fmt_num(r.layers.front().q));
    out += fmt::format("  gradient      chi_1 {} {}; {} (xi_grad {} layers)\n", fmt_num(f.chi_1),
                       std::isfinite(f.q_star) ? "at q*" : "as q grows",
                       s.paint(direction(f), f.phase == Phase::critical ? Tone::good : Tone::warn),
                       fmt_num(f.xi_grad, ".3g"));
    out += fmt::format("  correlations  c* {}, chi_c {}, xi_c {} layers: trainable to about {} layers (6 xi_c)\n",
                       fmt_num(f.c_star), fmt_num(f.chi_c), fmt_num(f.xi_c, ".3g"), fmt_num(r.trainable_depth, ".3g"));
    out += c.norm != NormKind::none ? std::string("  edge of chaos none: through a norm every sigma_w2 gives the same u\n")
           : std::isfinite(r.critical_sigma_w2)
               ? fmt::format("  edge of chaos sigma_w2 {} at sigma_b2 {:g}\n", fmt_num(r.critical_sigma_w2, ".5g"), r.sigma_b2)
               : fmt::format("  edge of chaos none for sigma_w2 in [0.01, 1000] at sigma_b2 {:g}\n", r.sigma_b2);
    if (std::isfinite(r.born_dead))
      out += fmt::format("  born dead     {} chance that an input's signal dies before layer {} (1 - prod(1 - 2^-N_l))\n",
                         fmt_num(r.born_dead, ".3g"), c.depth);
    if (r.jacobian)
      out += fmt::format("  Jacobian      log10 mean s^2 {}, var s^2 / mean^2 {} at depth {} (free probability, {} weights)\n",
                         fmt_num(r.jacobian->s2_mean_log10, "+.3f"), fmt_num(r.jacobian->s2_var_rel, ".4g"), c.depth,
                         c.init == "orthogonal" ? "orthogonal" : "Gaussian");
    out += fmt::format("{:>7} {:>10} {:>8} {:>8} {:>9} {:>9} {:>7}\n", "layer", "q_l", "c_l", "chi_l", "grad_h",
                       "grad_W", "dead%");
    for (Index l : shown_layers(c.depth, o)) {
      const LayerTheory& t = r.layers[static_cast<std::size_t>(l - 1)];
      out += fmt::format("{:>7} ", l) + theory_cell(t.q, ".4g", 10) + " " + theory_cell(t.c, ".4f", 8) + " " + theory_cell(t.chi, ".4f", 8) +
             " " + theory_cell(t.grad_preact_rel_log10, "+.3f", 9) + " " + theory_cell(t.grad_weight_rel_log10, "+.3f", 9) + " " +
             theory_cell(100 * t.dead_units_frac, ".1f", 7) + "\n";
    }
    if (!r.blocks.empty()) {
      out += fmt::format("{:>7} {:>10} {:>9} {:>9}\n", "block", "rms(s)", "grad_s", "branch");
      for (const BlockTheory& b : r.blocks)
        out += fmt::format("{:>7} ", b.block) + theory_cell(b.stream_rms, ".4g", 10) + " " +
               theory_cell(b.grad_stream_rel_log10, "+.3f", 9) + " " + theory_cell(b.branch_ratio, ".3g", 9) + "\n";
    }
    for (const std::string& n : r.notes) out += s.paint("note: ", Tone::warn) + n + "\n";
  }
  out +=
      "\nq_l: variance of a pre-activation; c_l: its correlation between two inputs; chi_l: ||dh_l||^2 / "
      "||dh_{l+1}||^2;\ngrad_h, grad_W: log10 of the gradient norm relative to layer L (decades); dead%: units "
      "flat on the whole batch.\n";
  if (c.residual != 0)
    out += "rms(s): the residual stream's RMS at a block's input; grad_s: log10 |dL/ds| there, relative to the last "
           "block;\nbranch: channel variance of alpha F(s) over that of s (Yang & Schoenholz 2017).\n";
  return out;
}

std::string phase_json(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams) {
  ojson out = ojson::array();
  for (const PhaseDiagram& d : diagrams) {
    ojson cells = ojson::array();
    for (const PhaseCell& p : d.cells)
      cells.push_back({{"sigma_w2", p.sigma_w2},
                       {"sigma_b2", p.sigma_b2},
                       {"q_star", number_or_null(p.q_star)},
                       {"chi_1", number_or_null(p.chi_1)},
                       {"xi_c", number_or_null(p.xi_c)},
                       {"phase", phase_name(p.phase)}});
    ojson line = ojson::array();
    for (std::size_t i = 0; i < d.sigma_b2.size(); ++i)
      line.push_back({{"sigma_b2", d.sigma_b2[i]}, {"sigma_w2", number_or_null(d.critical[i])}});
    out.push_back({{"activation", d.activation},
                   {"sigma_w2", d.sigma_w2},
                   {"sigma_b2", d.sigma_b2},
                   {"critical_line", std::move(line)},
                   {"cells", std::move(cells)}});
  }
  ojson doc = head_json("theory", c);
  doc["phase_diagrams"] = std::move(out);
  return dump_json(doc, 2) + "\n";
}

std::string phase_csv(const std::vector<PhaseDiagram>& diagrams) {
  std::string out = "activation,sigma_w2,sigma_b2,q_star,chi_1,xi_c,phase,critical_sigma_w2\n";
  for (const PhaseDiagram& d : diagrams)
    for (std::size_t ib = 0; ib < d.sigma_b2.size(); ++ib)
      for (std::size_t iw = 0; iw < d.sigma_w2.size(); ++iw) {
        const PhaseCell& p = d.at(ib, iw);
        out += fmt::format("{},{},{},{},{},{},{},{}\n", d.activation, csv_number(p.sigma_w2), csv_number(p.sigma_b2),
                           std::isinf(p.q_star) ? "inf" : csv_number(p.q_star), csv_number(p.chi_1),
                           std::isinf(p.xi_c) ? "inf" : csv_number(p.xi_c), phase_name(p.phase),
                           csv_number(d.critical[ib]));
      }
  return out;
}

std::string phase_table(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams, const Style& s) {
  std::string out = fmt::format("gradflow theory --phase-diagram: input {}, bias {:g}, critical within chi_1 = 1 +- {:g}\n",
                                input_name(c.input), c.bias_init, c.critical_tol);
  auto thin = [](std::size_t n, std::size_t most) {
    std::vector<std::size_t> idx;
    const std::size_t step = (n + most - 1) / most;
    for (std::size_t i = 0; i < n; i += std::max<std::size_t>(1, step)) idx.push_back(i);
    if (idx.back() != n - 1) idx.push_back(n - 1);
    return idx;
  };
  for (const PhaseDiagram& d : diagrams) {
    const std::vector<std::size_t> cols = thin(d.sigma_w2.size(), 60), rows = thin(d.sigma_b2.size(), 20);
    out += '\n';
    out += s.paint(d.activation, Tone::bold) +
           ": phase over sigma_w2 (across) and sigma_b2 (down); . ordered, | critical, # chaotic\n";
    out += fmt::format("{:>9}  {:<{}}{}\n", "sigma_b2", fmt::format("{:g}", d.sigma_w2.front()), cols.size(),
                       fmt::format("{:g}", d.sigma_w2.back()));
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      out += fmt::format("{:>9.4g}  ", d.sigma_b2[*it]);
      for (std::size_t iw : cols) {
        const Phase p = d.at(*it, iw).phase;
        out += p == Phase::ordered ? s.paint(".", Tone::dim) : p == Phase::critical ? s.paint("|", Tone::good) : "#";
      }
      out += '\n';
    }
    out += "critical sigma_w2 (chi_1 = 1):";
    for (std::size_t ib : thin(d.sigma_b2.size(), 8))
      out += fmt::format("  {:g} -> {}", d.sigma_b2[ib], fmt_num(d.critical[ib], ".4g"));
    out += '\n';
  }
  return out;
}

void add_theory_json(ojson& doc, const std::vector<TheoryComparison>& theory) {
  doc["config"]["theory"] = true;
  ojson& runs = doc["runs"];
  for (std::size_t ri = 0; ri < theory.size(); ++ri) {
    const TheoryComparison& t = theory[ri];
    ojson& run = runs[ri];
    ojson& layers = run["layers"];
    for (std::size_t li = 0; li < t.predicted.size(); ++li) {
      const LayerTheory& p = t.predicted[li];
      ojson& l = layers[li];
      l["preact_var"] = number_or_null(t.preact_var[li]);
      l["theory_q"] = number_or_null(p.q);
      l["theory_c"] = number_or_null(p.c);
      l["grad_preact_rel_log10"] = number_or_null(t.grad_preact_rel_log10[li]);
      l["theory_grad_preact_rel_log10"] = number_or_null(p.grad_preact_rel_log10);
      l["theory_grad_weight_rel_log10"] = number_or_null(p.grad_weight_rel_log10);
      l["theory_dead_units_frac"] = number_or_null(p.dead_units_frac);
      if (std::isfinite(p.norm_grad_ratio_log10)) l["theory_norm_grad_ratio_log10"] = p.norm_grad_ratio_log10;
    }
    for (std::size_t k = 0; k < t.predicted_blocks.size(); ++k) {
      const BlockTheory& p = t.predicted_blocks[k];
      ojson& b = run["blocks"][k];
      b["theory_stream_rms"] = number_or_null(p.stream_rms);
      b["grad_stream_rel_log10"] = number_or_null(t.grad_stream_rel_log10[k]);
      b["theory_grad_stream_rel_log10"] = number_or_null(p.grad_stream_rel_log10);
      b["theory_branch_ratio"] = number_or_null(p.branch_ratio);
    }
    ojson j = {{"method", t.method}, {"sigma_w2", t.sigma_w2}};
    const ojson fixed = fixed_json(t.fixed);
    for (auto& [k, v] : fixed.items()) j[k] = v;
    j["agreement"] = {{"layers", t.layers_compared},
                      {"q_rel_mean_abs", number_or_null(t.q_rel_mean_abs)},
                      {"grad_preact_mean_abs_decades", number_or_null(t.grad_preact_mean_abs)},
                      {"grad_weight_mean_abs_decades", number_or_null(t.grad_weight_mean_abs)},
                      {"dead_units_mean_abs", number_or_null(t.dead_units_mean_abs)}};
    if (!t.predicted_blocks.empty()) {
      j["agreement"]["blocks"] = t.blocks_compared;
      j["agreement"]["stream_rms_rel_mean_abs"] = number_or_null(t.stream_rms_rel_mean_abs);
      j["agreement"]["grad_stream_mean_abs_decades"] = number_or_null(t.grad_stream_mean_abs);
    }
    if (t.jacobian)
      j["jacobian"] = {{"jac_s2_mean_log10", number_or_null(t.jacobian->s2_mean_log10)},
                       {"jac_s2_var_rel", number_or_null(t.jacobian->s2_var_rel)}};
    j["notes"] = t.notes;
    run["theory"] = std::move(j);
  }
}

ExtraColumns theory_columns(const std::vector<TheoryComparison>& theory) {
  ExtraColumns x;
  x.names = {"preact_var", "theory_q", "theory_c", "grad_preact_rel_log10", "theory_grad_preact_rel_log10",
             "theory_grad_weight_rel_log10", "theory_dead_units_frac"};
  x.value = [&theory](std::size_t r, std::size_t l, std::size_t k) {
    const TheoryComparison& t = theory[r];
    const LayerTheory& p = t.predicted[l];
    switch (k) {
      case 0: return t.preact_var[l];
      case 1: return p.q;
      case 2: return p.c;
      case 3: return t.grad_preact_rel_log10[l];
      case 4: return p.grad_preact_rel_log10;
      case 5: return p.grad_weight_rel_log10;
      default: return p.dead_units_frac;
    }
  };
  return x;
}

namespace {

// Residual nets: each block's stream beside Yang & Schoenholz's prediction.
std::string blocks_comparison(const RunResult& r, const TheoryComparison& t) {
  if (t.predicted_blocks.empty() || r.pass.blocks.size() != t.predicted_blocks.size()) return "";
  std::string out = fmt::format("{:>5} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9}\n", "block", "rms(s)", "theory", "grad_s",
                                "theory", "branch", "theory");
  for (std::size_t k = 0; k < t.predicted_blocks.size(); ++k) {
    const BlockStats& m = r.pass.blocks[k];
    const BlockTheory& p = t.predicted_blocks[k];
    out += fmt::format("{:>5} ", k + 1) + theory_cell(m.stream_rms, ".4g", 9) + " " + theory_cell(p.stream_rms, ".4g", 9) +
           " " + theory_cell(t.grad_stream_rel_log10[k], "+.2f", 8) + " " + theory_cell(p.grad_stream_rel_log10, "+.2f", 8) +
           " " + theory_cell(m.branch_ratio, ".3g", 9) + " " + theory_cell(p.branch_ratio, ".3g", 9) + "\n";
  }
  return out + fmt::format(
                   "agreement over {} blocks: rms(s) within {} of theory on average; stream gradient within {} decades\n",
                   t.blocks_compared,
                   std::isfinite(t.stream_rms_rel_mean_abs) ? fmt::format("{:.1f}%", 100 * t.stream_rms_rel_mean_abs) : "-",
                   fmt_num(t.grad_stream_mean_abs, ".2f"));
}

}  // namespace

std::string comparison_table(const AnalysisResult& result, const std::vector<TheoryComparison>& theory,
                             const TableOptions& o) {
  const Style& s = o.style;
  std::string out = "\n";
  out += s.paint("Theory beside measurement", Tone::bold) + " (mean-field, infinite width; measured | predicted)\n";
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri) {
    const RunResult& r = result.runs[ri];
    const TheoryComparison& t = theory[ri];
    const FixedPoint& f = t.fixed;
    out += '\n';
    out += s.paint(fmt::format("{} ({})", r.activation, r.init), Tone::bold) +
           fmt::format(": sigma_w2 {:g}, q* {}, chi_1 {}: {}; {}\n", t.sigma_w2, fmt_num(f.q_star), fmt_num(f.chi_1),
                       direction(f), t.method);
    out += fmt::format("{:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6}\n", "layer", "var(h)", "q_l", "grad_h",
                       "theory", "grad_W", "theory", "dead%", "theory");
    for (Index layer : shown_layers(result.config.depth, o)) {
      const std::size_t i = static_cast<std::size_t>(layer - 1);
      const LayerTheory& p = t.predicted[i];
      const LayerStats& m = r.pass.layers[i];
      out += fmt::format("{:>5} ", layer) + theory_cell(t.preact_var[i], ".4g", 9) + " " + theory_cell(p.q, ".4g", 9) + " " +
             theory_cell(t.grad_preact_rel_log10[i], "+.2f", 8) + " " + theory_cell(p.grad_preact_rel_log10, "+.2f", 8) + " " +
             theory_cell(m.grad_weight_rel_log10, "+.2f", 8) + " " + theory_cell(p.grad_weight_rel_log10, "+.2f", 8) + " " +
             theory_cell(100 * m.dead_units_frac, ".1f", 6) + " " + theory_cell(100 * p.dead_units_frac, ".1f", 6) + "\n";
    }
    out += fmt::format(
        "agreement over {} layers: var(h) within {} of q_l on average; gradient profile within {} decades "
        "(grad_h) and {} (grad_W){}\n",
        t.layers_compared, std::isfinite(t.q_rel_mean_abs) ? fmt::format("{:.1f}%", 100 * t.q_rel_mean_abs) : "-",
        fmt_num(t.grad_preact_mean_abs, ".2f"), fmt_num(t.grad_weight_mean_abs, ".2f"),
        std::isfinite(t.dead_units_mean_abs)
            ? fmt::format("; dead units within {:.1f} points", 100 * t.dead_units_mean_abs)
            : "");
    out += blocks_comparison(r, t);
    if (t.jacobian && r.jacobian)
      out += fmt::format("Jacobian (free probability): log10 mean s^2 {} | {}; var s^2 / mean^2 {} | {}\n",
                         fmt_num(r.jacobian->s2_mean_log10, "+.3f"), fmt_num(t.jacobian->s2_mean_log10, "+.3f"),
                         fmt_num(r.jacobian->s2_var_rel, ".4g"), fmt_num(t.jacobian->s2_var_rel, ".4g"));
    for (const std::string& n : t.notes) out += s.paint("note: ", Tone::warn) + n + "\n";
  }
  out +=
      "\nvar(h): measured variance of pre-activations, q_l its prediction; grad_h, grad_W: log10 of |dL/dh_l|, "
      "|dL/dW_l|\nrelative to layer L (decades); dead%: units flat on the whole batch.\n";
  if (!theory.empty() && !theory.front().predicted_blocks.empty())
    out += "rms(s): the residual stream's RMS at a block's input; grad_s: log10 |dL/ds| there, relative to the last "
           "block;\nbranch: channel variance of alpha F(s) over that of s (Yang & Schoenholz 2017's residual mean "
           "field).\n";
  return out;
}

}  // namespace gf
