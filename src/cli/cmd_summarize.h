#pragma once
// `gradflow summarize`: group sweep records and describe a metric per group, or pivot its mean
// over two keys ("at which depth does each activation lose its gradient?").
#include "config/cli_fwd.h"
#include <string>
#include <vector>

namespace gf {

struct SummarizeOptions {
  std::vector<std::string> files;
  std::vector<std::string> by;  // empty: every config key that varies, seed aside
  std::vector<std::string> metrics;  // empty: grad_first_last_log10 (with --layers: grad_weight_rel_log10)
  bool layers = false;               // per-layer metrics of `sweep --layers` records
  std::vector<std::string> pivot;  // ROW,COL
  std::vector<std::string> where;  // KEY=VALUE[,VALUE...]
  std::string plot;    // FILE.svg: the pivot as a heatmap
  std::string panels;  // KEY: one heatmap per value of KEY
  std::string format = "table";
  std::string output = "-";
};

CLI::App* setup_summarize(CLI::App& app, SummarizeOptions& o);
int run_summarize(const SummarizeOptions& o);

}  // namespace gf
