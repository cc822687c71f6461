#pragma once
// The options that define a network and what is measured on it: shared by every subcommand
// that builds networks, so each flag is spelled, checked and documented once.
#include "config/cli_fwd.h"

#include "core/analysis.h"

namespace gf {

void add_network_options(CLI::App& command, AnalysisConfig& c);

}  // namespace gf
