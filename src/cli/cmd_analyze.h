#pragma once
// `gradflow analyze` (and `gradflow` alone): build the networks, measure, report.
#include "config/cli_fwd.h"
#include <string>

#include "base/terminal.h"
#include "config/model_options.h"
#include "core/analysis.h"

namespace gf {

struct AnalyzeOptions {
  AnalysisConfig config;
  std::string config_file;
  std::string format = "table";
  std::string output = "-";
  ColorMode color = ColorMode::automatic;
  bool all_layers = false;
  bool theory = false;  // mean-field predictions beside the measurements
  std::string plot;     // FILE.svg
  std::string plot_spectrum;  // FILE.svg: --jacobian's spectral density
  std::vector<std::string> seeds{"0"};  // several: statistics over seeds
  bool per_seed = false;  // JSON: every seed's run beside the statistics
  ModelOptions model;     // --model FILE.onnx, --weights-from, --data, --label-col
};

CLI::App* setup_analyze(CLI::App& app, AnalyzeOptions& o);
int run_analyze(const AnalyzeOptions& o);

// Options every report-writing subcommand shares.
void add_output_options(CLI::App& cmd, std::string& format, const std::vector<std::string>& formats,
                        std::string& output, ColorMode* color);

}  // namespace gf
