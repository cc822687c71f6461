#pragma once
// The whole command line: every subcommand's options, parsing, config files, and the mapping
// of errors to exit codes (exit_status.h). main() only calls run_cli.
#include <functional>
#include <memory>
#include <vector>

#include "cli/cmd_analyze.h"
#include "cli/cmd_bench.h"
#include "cli/cmd_check.h"
#include "cli/cmd_list.h"
#include "cli/cmd_merge.h"
#include "cli/cmd_summarize.h"
#include "cli/cmd_sweep.h"
#include "cli/cmd_theory.h"
#include "cli/cmd_train.h"
#include "config/cli_fwd.h"

namespace gf {

struct Command {
  CLI::App* app;
  std::function<int()> run;
};

struct Cli {
  Cli();
  ~Cli();
  std::unique_ptr<CLI::App> app;  // behind a pointer so that main.cc need not compile CLI11
  AnalyzeOptions analyze;
  ListOptions list;
  TrainOptions train;
  TheoryOptions theory;
  SweepOptions sweep;
  SummarizeOptions summarize;
  MergeOptions merge;
  CheckOptions check;
  BenchOptions bench;
  std::vector<Command> commands;  // in help order; the first runs when none is named
};

std::unique_ptr<Cli> make_cli();
// Parses and runs; returns the exit code. Errors go to stderr as "gradflow: error: ...".
int run_cli(Cli& cli, int argc, const char* const* argv);

}  // namespace gf
