#pragma once
// The options that define a network and what is measured on it: shared by every subcommand
// that builds networks, so each flag is spelled, checked and documented once.
#include "config/cli_fwd.h"

#include "core/analysis.h"

namespace gf {

void add_network_options(CLI::App& command, AnalysisConfig& c);

// The options --arch FILE replaces (the file says them), without their dashes: given with --arch
// they are refused, and a document of an --arch run that lists them is replayed from the file.
inline constexpr const char* kArchReplaces[] = {"activation", "depth", "width", "leaky-slope", "residual",
                                                "residual-scale", "norm", "norm-position", "norm-eps", "dropout"};

}  // namespace gf
