#pragma once
// `gradflow check`: a regression gate for CI. Baseline mode reruns a recorded `analyze` JSON and
// compares every metric within tolerances; rule mode runs networks (one, or a grid as in sweep)
// and checks bounds on metrics. Exit 1 when anything fails, with a table (or JSON) of what and
// where, and optionally JUnit XML for the CI's test view.
#include "config/cli_fwd.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "batch/grid.h"

namespace gf {

struct CheckOptions {
  GridOptions grid;
  std::string config_file;
  std::string baseline;
  std::string save_baseline;  // --save-baseline FILE: this run as a baseline (analyze's JSON)
  double atol = 1e-4, rtol = 1e-4, count_slack = 2;
  std::vector<std::string> metric_atol, metric_rtol;
  bool update = false;
  std::vector<std::string> rules;
  std::optional<double> max_dead_frac, max_saturated_frac, min_grad_factor, max_grad_factor, max_act_offset;
  std::string junit;
  std::string format = "table";
  std::string output = "-";
  int jobs = 0, threads = 1;
  std::uint64_t max_runs = 10000;
  std::size_t max_rows = 30;  // table rows shown per failed check
};

CLI::App* setup_check(CLI::App& app, CheckOptions& o);
int run_check(const CheckOptions& o);

}  // namespace gf
