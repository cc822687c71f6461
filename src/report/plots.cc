#include "report/plots.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "base/suggest.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "report/chart.h"
#include "theory/spectrum_theory.h"
#include "train/optimizer.h"

namespace gf {

using chart::Series;
using svg::Dash;
using svg::LegendEntry;

namespace {

constexpr int kBlack = 7;  // palette index of black, for style keys in legends

std::string widths_text(const AnalysisConfig& c) {
  const std::vector<Index> w = c.widths();
  const auto [lo, hi] = std::minmax_element(w.begin() + 1, w.end());
  return *lo == *hi ? fmt::format("width {}", *lo) : fmt::format("widths {}..{}", *lo, *hi);
}

std::vector<double> layer_axis(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i + 1);
  return x;
}

}  // namespace

std::pair<std::vector<double>, std::vector<double>> density(const std::vector<double>& values, double lo, double hi,
                                                            int bins) {
  std::vector<double> x(static_cast<std::size_t>(bins)), y(static_cast<std::size_t>(bins), 0.0);
  const double width = (hi - lo) / bins;
  for (int b = 0; b < bins; ++b) x[static_cast<std::size_t>(b)] = lo + (b + 0.5) * width;
  if (values.empty() || !(width > 0)) return {x, y};
  for (double v : values) {
    const int b = std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1);  // hi falls in the last bin
    y[static_cast<std::size_t>(b)] += 1;
  }
  for (double& v : y) v /= static_cast<double>(values.size()) * width;
  return {x, y};
}

namespace {

// The predicted density of log10 s^2 for a run (spectrum_theory.h), as a dashed line in its
// colour: Fuss-Catalan's per-decade density from the histogram's low end to the support's edge,
// or a point mass as a vertical line up to `top`. False where theory has none.
bool add_prediction(chart::Panel& p, const SpectrumPrediction& pred, const std::string& name, int colour, double lo,
                    double top) {
  using Kind = SpectrumPrediction::Kind;
  if (pred.kind == Kind::none) return false;
  if (pred.kind == Kind::point_mass) {
    p.series.push_back({name + " predicted", {pred.scale_log10, pred.scale_log10}, {0, top}, colour, Dash::dashed,
                        svg::Marker::none, false});
    return true;
  }
  if (pred.kind == Kind::free_probability) {
    // The histogram holds the nonzero s only: the density over them is the continuous part over
    // its mass 1 - atom (relu's J has rank n/2). Its flat tails (below 1e-4 of the peak) are left out.
    const FreeDensity& d = pred.density;
    const double peak = *std::max_element(d.per_decade.begin(), d.per_decade.end());
    Series line{name + " predicted", {}, {}, colour, Dash::dashed, svg::Marker::none, false};
    for (std::size_t i = 0; i < d.log10_x.size(); ++i) {
      if (d.log10_x[i] < lo || d.per_decade[i] < 1e-4 * peak) continue;
      line.x.push_back(d.log10_x[i]);
      line.y.push_back(d.per_decade[i] / (1 - d.atom));
    }
    if (line.x.empty()) return false;
    p.series.push_back(std::move(line));
    return true;
  }
  // phi from pi/(L+1) (x -> 0, log10 x -> -inf) down to 0 (the edge): x increases along the line.
  const int n = 400;
  const double end = std::numbers::pi / (pred.order + 1);
  Series line{name + " predicted", {}, {}, colour, Dash::dashed, svg::Marker::none, false};
  for (int i = n; i >= 0; --i) {
    const double phi = std::max(end * i / n, 1e-9);
    const FussCatalanPoint f = fuss_catalan_point(pred.order, std::min(phi, end * (1 - 1e-9)));
    const double u = std::log10(f.x) + pred.scale_log10;
    if (u < lo || !std::isfinite(u)) continue;
    line.x.push_back(u);
    line.y.push_back(f.per_decade);
  }
  p.series.push_back(std::move(line));
  return true;
}

}  // namespace

std::string spectrum_plot(const AnalysisResult& result) {
  const AnalysisConfig& c = result.config;
  double lo = 0, hi = 0;
  bool any = false;
  for (const RunResult& r : result.runs)
    for (double v : r.jacobian_log10_s2) {
      lo = any ? std::min(lo, v) : v;
      hi = any ? std::max(hi, v) : v;
      any = true;
    }
  if (!(hi > lo)) {  // one value (or none): a bin of a decade around it
    lo -= 0.5;
    hi += 0.5;
  }
  chart::LineChart ch;
  ch.title = fmt::format("Spectrum of J J^T, J = d a_L / d x: depth {}, {}", c.depth, widths_text(c));
  ch.subtitle = fmt::format("gradflow analyze --jacobian; {} samples pooled, {}, seed {}", c.jacobian_samples,
                            dtype_name(c.dtype), c.seed);
  ch.x_label = "log10 s^2 (s: singular values of J above the rank tolerance)";
  chart::Panel p{"density per decade of s^2", {}};
  p.y_min = 0;
  double top = 0;
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri) {
    const RunResult& r = result.runs[ri];
    const auto [x, y] = density(r.jacobian_log10_s2, lo, hi, 40);
    const std::string name = fmt::format("{} ({})", r.activation, r.init);
    p.series.push_back({name, x, y, static_cast<int>(ri), Dash::solid, svg::marker_for(static_cast<int>(ri))});
    for (double v : y) top = std::max(top, v);
    ch.legend.push_back({name, static_cast<int>(ri), Dash::solid, svg::marker_for(static_cast<int>(ri))});
  }
  // Theory where it has a density (spectrum_theory.h); the runs it has none for, and why.
  std::vector<std::string> predicted, free_predicted, not_predicted;
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri) {
    const RunResult& r = result.runs[ri];
    const SpectrumPrediction pred = predict_spectrum(c, *find_activation(r.activation), lo);
    const std::string name = fmt::format("{} ({})", r.activation, r.init);
    if (add_prediction(p, pred, name, static_cast<int>(ri), lo, top > 0 ? top : 1)) {
      if (pred.kind == SpectrumPrediction::Kind::point_mass)
        predicted.push_back(fmt::format("{}: every s^2 = prod sigma_w2 = 10^{:.3g} (orthogonal weights)", name,
                                        pred.scale_log10));
      else if (pred.kind == SpectrumPrediction::Kind::fuss_catalan)
        predicted.push_back(fmt::format("{}: Fuss-Catalan of order {} scaled by prod sigma_w2 = 10^{:.3g}", name,
                                        pred.order, pred.scale_log10));
      else
        free_predicted.push_back(
            pred.density.atom > 0
                ? fmt::format("{}: mean s^2 {:.3g}, a share {:.3g} of s exactly 0 (left out of histogram and line)",
                              name, std::pow(10.0, pred.scale_log10), pred.density.atom)
                : fmt::format("{}: mean s^2 {:.3g}", name, std::pow(10.0, pred.scale_log10)));
    } else {
      not_predicted.push_back(fmt::format("{}: {}", name, pred.why_not));
    }
  }
  ch.panels = {p};
  ch.legend_heading = "activation (init)";
  ch.legend.push_back({"measured", kBlack, Dash::solid});
  if (!predicted.empty() || !free_predicted.empty())
    ch.legend.push_back({"predicted (n -> infinity)", kBlack, Dash::dashed});
  ch.notes = {"Isometry: all mass at 0 (every s = 1). The histogram has 40 bins over the runs' range; singular values "
              "below the rank tolerance (jac_rank_fraction) are left out."};
  if (!predicted.empty())
    ch.notes.push_back("Dashed, the infinite-width density of a linear network (Haagerup & Moller 2013): " +
                       join(predicted, "; ") + ".");
  if (!free_predicted.empty())
    ch.notes.push_back("Dashed, free probability, Pennington et al. 2017: the width -> infinity density of J J^T for "
                       "J = D_L W_L ... D_1 W_1, D_l = diag(phi'(h)), h ~ N(bias, q_l) at the mean-field variances q_l "
                       "(the fixed point q* once the input's q has settled): " +
                       join(free_predicted, "; ") + ".");
  if (!not_predicted.empty())
    ch.notes.push_back("No prediction is drawn for " + join(not_predicted, "; ") + ".");
  return chart::line_chart(ch);
}

std::string analyze_plot(const AnalysisResult& result, const std::vector<TheoryComparison>* theory) {
  const AnalysisConfig& c = result.config;
  chart::LineChart ch;
  ch.title = fmt::format("Gradient flow at initialisation: depth {}, {}, batch {}", c.depth, widths_text(c), c.batch);
  ch.subtitle = fmt::format("gradflow analyze; loss {}, input {}, {}, seed {}{}", loss_name(c.loss), input_name(c.input),
                            dtype_name(c.dtype), c.seed, theory ? "; dashed: mean-field theory" : "");
  ch.x_label = "layer l (1: next to the input, L: next to the head)";
  ch.x_integer = true;
  chart::Panel grad{"|dL/dW_l| relative to layer L (decades)", {}};
  chart::Panel frac{"saturated / dead units (%)", {}};
  frac.y_min = 0;
  bool any_dead = false;
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri) {
    const RunResult& r = result.runs[ri];
    const int colour = static_cast<int>(ri);
    const svg::Marker marker = svg::marker_for(static_cast<int>(ri));
    const std::string name = fmt::format("{} ({})", r.activation, r.init);
    const std::vector<double> x = layer_axis(r.pass.layers.size());
    std::vector<double> g, sat, dead;
    for (const LayerStats& l : r.pass.layers) {
      g.push_back(l.grad_weight_rel_log10);
      sat.push_back(100 * (l.saturated_frac - l.inactive_frac));
      dead.push_back(100 * l.dead_units_frac);
    }
    grad.series.push_back({name, x, g, colour, Dash::solid, marker});
    frac.series.push_back({name + " saturated", x, sat, colour, Dash::solid, marker, false});
    const bool dead_zone = find_activation(r.activation)->has_dead_zone(c.leaky_slope);
    if (dead_zone) {
      any_dead = true;
      frac.series.push_back({name + " dead", x, dead, colour, Dash::dotted, marker, false});
    }
    if (theory) {
      const TheoryComparison& t = (*theory)[ri];
      std::vector<double> pg, pd;
      for (const LayerTheory& p : t.predicted) {
        pg.push_back(p.grad_weight_rel_log10);
        pd.push_back(100 * p.dead_units_frac);
      }
      grad.series.push_back({name + " theory", x, pg, colour, Dash::dashed, svg::Marker::none, false});
      if (dead_zone) frac.series.push_back({name + " dead theory", x, pd, colour, Dash::dashed, svg::Marker::none, false});
    }
  }
  ch.panels = {grad, frac};
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri)
    ch.legend.push_back({fmt::format("{} ({})", result.runs[ri].activation, result.runs[ri].init), static_cast<int>(ri),
                         Dash::solid, svg::marker_for(static_cast<int>(ri))});
  ch.legend.push_back({"measured (lower: saturated)", kBlack, Dash::solid});
  if (any_dead) ch.legend.push_back({"dead units, measured", kBlack, Dash::dotted});
  if (theory) ch.legend.push_back({"mean-field theory", kBlack, Dash::dashed});
  ch.legend_heading = "activation (init)";
  ch.notes = {
      "Upper: log10 |dL/dW_l| - log10 |dL/dW_L|: 0 is as large as the last layer's, -2 a hundredth of it.",
      fmt::format("Lower: saturated = slope below {:g} x the maximum on a flat tail (per sample and unit); dead = flat on "
                  "the whole batch.",
                  c.sat_eps)};
  if (c.saturated_when)
    ch.notes.push_back(fmt::format("Bounded activations: saturated = |output - centre| above {:g} x half the range.",
                                   *c.saturated_when));
  return chart::line_chart(ch);
}

std::string theory_plot(const TheoryConfig& c, const std::vector<TheoryResult>& results) {
  chart::LineChart ch;
  ch.title = fmt::format("Mean-field theory at initialisation: depth {}", c.depth);
  ch.subtitle = fmt::format("gradflow theory; sigma_b2 {:g}{}, input {}, infinite width",
                            results.empty() ? 0.0 : results.front().sigma_b2,
                            c.bias_init != 0 ? fmt::format(", bias {:g}", c.bias_init) : "", input_name(c.input));
  ch.x_label = "layer l (1: next to the input, L: next to the head)";
  ch.x_integer = true;
  chart::Panel grad{"|dL/dh_l| relative to layer L (decades)", {}};
  chart::Panel q{"variance q_l of a pre-activation", {}};
  q.y_min = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const TheoryResult& r = results[i];
    const int colour = static_cast<int>(i);
    const std::string name = fmt::format("{} ({})", r.activation, r.init);
    const std::vector<double> x = layer_axis(r.layers.size());
    std::vector<double> g, qs;
    for (const LayerTheory& l : r.layers) {
      g.push_back(l.grad_preact_rel_log10);
      qs.push_back(l.q);
    }
    grad.series.push_back({name, x, g, colour, Dash::solid, svg::marker_for(colour)});
    q.series.push_back({name + " q", x, qs, colour, Dash::solid, svg::marker_for(colour), false});
  }
  ch.panels = {grad, q};
  ch.legend_heading = "activation (init)";
  ch.notes = {"Upper: log10 |dL/dh_l| - log10 |dL/dh_L| from the products of chi_1(q_l); lower: the length map's q_l."};
  return chart::line_chart(ch);
}

std::string train_plot(const TrainResult& result) {
  const TrainConfig& c = result.config;
  AnalysisConfig net = c.net;
  net.input_dim = result.data.features;
  chart::LineChart ch;
  ch.title = fmt::format("Training: depth {}, {}, {} data", c.net.depth, widths_text(net), result.data.name);
  ch.subtitle = fmt::format("gradflow train; {} lr {:g}, batch {}, seed{} {}", optimizer_name(c.optimizer.kind),
                            c.optimizer.lr, c.net.batch, c.seeds.size() > 1 ? "s" : "", seeds_text(c.seeds));
  ch.x_label = "step";
  ch.x_min = 0;
  chart::Panel loss{"loss (evaluation batch)", {}};
  loss.y_min = 0;
  chart::Panel error{"training error (%)", {}};
  error.y_min = 0;
  chart::Panel units{"saturated / dead units (%)", {}};
  units.y_min = 0;

  const std::vector<Index> widths = hidden_widths(c, result.data.features);
  const std::vector<std::string>& acts = c.net.activations;
  bool any_dead = false, any_diverged = false;
  Index last_step = 0;
  // A diverging run's loss climbs by orders of magnitude before it overflows: the axis is set by
  // the runs that did not diverge (and every run's start), and the diverged lines leave at the top.
  double loss_top = 0;
  for (const TrainRun& run : result.runs)
    for (const LogRecord& r : run.log)
      if (std::isfinite(r.loss) && (run.end != RunEnd::diverged || r.step == 0)) loss_top = std::max(loss_top, r.loss);
  for (const TrainRun& run : result.runs) {
    any_diverged = any_diverged || run.end == RunEnd::diverged;
    const int colour = static_cast<int>(std::find(acts.begin(), acts.end(), run.activation) - acts.begin());
    const svg::Marker marker = svg::marker_for(colour);
    const std::string name = run.label(result.several_seeds());
    std::vector<double> x, l, e, sat, dead;
    for (const LogRecord& r : run.log) {
      x.push_back(static_cast<double>(r.step));
      l.push_back(r.loss);
      e.push_back(100 * r.train_error);
      const LayerRecord& top = r.layers.back();
      sat.push_back(100 * (top.saturated_frac - top.inactive_frac));
      dead.push_back(100 * hidden_dead_frac(r, widths));
    }
    if (!run.log.empty()) last_step = std::max(last_step, run.log.back().step);
    loss.series.push_back({name, x, l, colour, Dash::solid, marker, false});
    error.series.push_back({name + " error", x, e, colour, Dash::solid, marker, false});
    units.series.push_back({name + " saturated", x, sat, colour, Dash::solid, marker, false});
    if (find_activation(run.activation)->has_dead_zone(c.net.leaky_slope)) {
      any_dead = true;
      units.series.push_back({name + " dead", x, dead, colour, Dash::dotted, marker, false});
    }
  }
  if (!any_dead) units.y_label = "top layer saturated (%)";
  if (any_diverged && loss_top > 0) loss.y_max = 1.1 * loss_top;
  const double target = 100 * c.target_error;
  error.series.push_back({"target", {0, static_cast<double>(last_step)}, {target, target}, kBlack, Dash::dashed,
                          svg::Marker::none, false});
  ch.panels = {loss, error, units};
  for (std::size_t a = 0; a < acts.size(); ++a)
    ch.legend.push_back({acts[a], static_cast<int>(a), Dash::solid, svg::marker_for(static_cast<int>(a))});
  ch.legend.push_back({fmt::format("target error {:g}%", target), kBlack, Dash::dashed});
  ch.legend.push_back({"top layer saturated", kBlack, Dash::solid});
  if (any_dead) ch.legend.push_back({"dead, all hidden units", kBlack, Dash::dotted});
  ch.legend_heading = result.several_seeds() ? "activation (one line per seed)" : "activation";
  ch.notes = {
      fmt::format("Every {} steps, on a fixed evaluation batch of the training set: mean loss and error (upper two).",
                  c.resolved_log_every()),
      fmt::format("Lower: saturated = slope below {:g} x the maximum on a flat tail, top hidden layer{}.", c.net.sat_eps,
                  any_dead ? "; dead = flat on the whole evaluation batch" : "")};
  if (c.net.saturated_when)
    ch.notes.push_back(fmt::format("Bounded activations: saturated = |output - centre| above {:g} x half the range.",
                                   *c.net.saturated_when));
  if (any_diverged) ch.notes.push_back("A diverged run's line ends where its loss became non-finite; its climb leaves the loss panel at the top.");
  return chart::line_chart(ch);
}

std::string phase_plot(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams, PhaseMetric metric) {
  chart::Heatmap h;
  const bool chi = metric == PhaseMetric::chi_1;
  h.title = chi ? "The edge of chaos: chi_1 over (sigma_w2, sigma_b2)" : "Depth scale of correlations xi_c over (sigma_w2, sigma_b2)";
  h.subtitle = fmt::format("gradflow theory --phase-diagram; input {}{}; line: chi_1 = 1, the edge of chaos", input_name(c.input),
                           c.bias_init != 0 ? fmt::format(", bias {:g}", c.bias_init) : "");
  h.x_label = "sigma_w2 (weight variance x fan_in)";
  h.y_label = "sigma_b2 (bias variance)";
  constexpr double kXiCap = 60;
  h.colour_label = chi ? "chi_1 (gradient factor per layer, squared)" : "xi_c (layers; 60 or more at the top)";
  if (!chi) {
    h.z_min = 0;
    h.z_max = kXiCap;
  }
  for (std::size_t di = 0; di < diagrams.size(); ++di) {
    const PhaseDiagram& d = diagrams[di];
    chart::HeatmapPanel p;
    p.title = d.activation;
    p.x = d.sigma_w2;
    p.y = d.sigma_b2;
    for (const PhaseCell& cell : d.cells) p.z.push_back(chi ? cell.chi_1 : std::min(cell.xi_c, kXiCap));
    Series line{"critical line " + d.activation, {}, {}, kBlack, Dash::solid};
    for (const auto& [b2, w2] : d.line) {
      line.x.push_back(w2);
      line.y.push_back(b2);
    }
    p.overlays.push_back(line);
    h.panels.push_back(std::move(p));
  }
  h.legend = {{"critical line chi_1 = 1: ordered (gradients vanish) to its left, chaotic (explode) to its right",
               kBlack, Dash::solid}};
  if (diagrams.size() > 1) h.width = std::min(1400.0, 200 + 420.0 * static_cast<double>(diagrams.size()));
  return chart::heatmap(h);
}

std::string pivot_plot(const std::vector<PivotPanel>& panels, const std::string& subtitle,
                       const std::vector<std::string>& notes) {
  const Pivot& first = panels.front().pivot;
  chart::Heatmap h;
  h.title = fmt::format("Mean {} over {} and {}", first.metric, first.row_key, first.col_key);
  h.subtitle = subtitle;
  h.x_label = first.col_key;
  h.y_label = first.row_key;
  auto describe = [&](std::string_view key, std::string_view description, double neutral) {
    if (key != first.metric) return;
    h.colour_label = fmt::format("{} ({})", key, description);
    h.centre = neutral;
  };
  for (const SummaryMetric& m : summary_metrics()) describe(m.key, m.description, m.neutral);
  for (const LayerMetric& m : layer_metrics()) describe(m.key, m.description, m.neutral);
  h.contour = std::isfinite(h.centre);
  bool any_overlay = false;
  for (const PivotPanel& p : panels) {
    chart::HeatmapPanel panel;
    panel.title = p.label;
    for (const auto& c : p.pivot.cols) panel.x.push_back(c.get<double>());
    for (const auto& r : p.pivot.rows) panel.y.push_back(r.get<double>());
    for (const auto& row : p.pivot.cells)
      for (const Describe& d : row) panel.z.push_back(d.mean);
    panel.overlays = p.overlays;
    any_overlay = any_overlay || !p.overlays.empty();
    h.panels.push_back(std::move(panel));
  }
  if (any_overlay)
    h.legend = {{"mean-field critical line chi_1 = 1: ordered (gradients vanish) at smaller sigma_w2, chaotic (explode) "
                 "at larger",
                 kBlack, Dash::solid}};
  if (panels.size() > 1) h.width = std::min(1400.0, 200 + 420.0 * static_cast<double>(panels.size()));
  h.notes.push_back("Each cell is the mean over the runs that share its two values; grey: no finite value.");
  if (h.contour)
    h.notes.push_back(fmt::format("Colours diverge from {:g} (light), blue below and red above; dashed: where the mean "
                                  "crosses {:g}.",
                                  h.centre, h.centre));
  h.notes.insert(h.notes.end(), notes.begin(), notes.end());
  return chart::heatmap(h);
}

}  // namespace gf
