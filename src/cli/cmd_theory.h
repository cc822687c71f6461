#pragma once
// `gradflow theory`: what mean-field theory predicts for a configuration (the length and
// correlation maps, chi_1, depth scales, phase, edge of chaos, gradient profile, dead units),
// or a phase diagram over (sigma_w2, sigma_b2).
#include "config/cli_fwd.h"
#include <string>

#include "base/terminal.h"
#include "theory/theory.h"

namespace gf {

struct TheoryOptions {
  TheoryConfig config;
  std::string sigma_w2, sigma_b2;  // a number, or START:STOP:STEP with --phase-diagram
  std::string config_file;
  std::string format = "table";
  std::string output = "-";
  std::string plot;                // FILE.svg
  std::string plot_metric = "chi_1";
  ColorMode color = ColorMode::automatic;
  bool all_layers = false;
};

CLI::App* setup_theory(CLI::App& app, TheoryOptions& o);
int run_theory(const TheoryOptions& o);

}  // namespace gf
