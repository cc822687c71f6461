#pragma once
// The human-readable report. Several activations: one side-by-side table (relative weight
// gradient, saturated and dead shares, a bar on the log scale). One activation: every metric.
// Then a sentence per verdict.
#include <string>

#include "base/terminal.h"
#include "core/analysis.h"

namespace gf {

struct TableOptions {
  Style style;
  bool all_layers = false;
  Index max_rows = 25;  // rows are thinned evenly past this, unless all_layers
};

// The layers shown: all, or about max_rows spread evenly, always with the first and the last.
std::vector<Index> shown_layers(Index depth, const TableOptions& o);

std::string analysis_table(const AnalysisResult& result, const TableOptions& o);

// The text with the spaces at the ends of its lines removed (columns are padded to their width).
std::string trim_line_ends(std::string_view text);

// The network in a report's first line: "depth 8 (4 residual blocks of 2, after an input
// projection: 9 layers), width 64"; shared by the one-seed and the seeds tables.
std::string network_phrase(const AnalysisConfig& c);

// What a report's first line says of the run but its seed: "--model m.onnx: depth 2, width 16,
// batch 32, input the first rows of d.csv, loss xent, f32" (file names with control characters
// escaped); shared by the one-seed and the seeds tables.
std::string run_setting(const AnalysisConfig& c);

// What reports call a run: its activation, or with --model the model file's name (a model's
// layers may each have their own activation).
std::string run_title(const AnalysisConfig& c, const RunResult& r);

}  // namespace gf
