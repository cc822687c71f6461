#pragma once
// The figures gradflow draws (--plot FILE.svg), built from chart.h.
#include <string>
#include <vector>

#include "batch/aggregate.h"
#include "core/analysis.h"
#include "report/chart.h"
#include "theory/theory.h"
#include "theory/theory_compare.h"
#include "train/train.h"

namespace gf {

// analyze: per-layer weight gradient relative to the last layer (one line per activation; with
// theory, the prediction dashed), and a second panel of saturated and dead shares.
std::string analyze_plot(const AnalysisResult& result, const std::vector<TheoryComparison>* theory);

// A histogram of `values` over [lo, hi] in `bins` equal bins, as a density (counts / (total x bin
// width)): the bins' centres and densities.
std::pair<std::vector<double>, std::vector<double>> density(const std::vector<double>& values, double lo, double hi,
                                                            int bins);
// analyze --plot-spectrum: the spectral density of J J^T (log10 s^2) per run, from --jacobian.
std::string spectrum_plot(const AnalysisResult& result);

// theory: the predicted gradient profile and the variance q_l, per activation.
std::string theory_plot(const TheoryConfig& c, const std::vector<TheoryResult>& results);

// theory --phase-diagram: chi_1 or xi_c over (sigma_w2, sigma_b2), one panel per activation,
// with the critical line.
enum class PhaseMetric { chi_1, xi_c };
std::string phase_plot(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams, PhaseMetric metric);

// train: loss and training error against steps, one line per run (colour: activation), and the
// top hidden layer's saturated share and the dead share of all hidden units.
std::string train_plot(const TrainResult& result);

// summarize --pivot ROW,COL --plot: the pivot's mean as a heatmap over two numeric keys, one
// panel per (label, pivot), side by side on one colour scale. A signed metric (one with a
// neutral value in its declaration: 0 for a log ratio, 1 for a factor) gets a diverging scale
// centred there and its contour; overlays are drawn over the cells (the critical line).
struct PivotPanel {
  std::string label;
  Pivot pivot;
  std::vector<chart::Series> overlays;
};
std::string pivot_plot(const std::vector<PivotPanel>& panels, const std::string& subtitle,
                       const std::vector<std::string>& notes);

}  // namespace gf
