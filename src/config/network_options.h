#pragma once
// The options that define a network and what is measured on it: shared by every subcommand
// that builds networks, so each flag is spelled, checked and documented once.
#include "config/cli_fwd.h"
#include <map>
#include <string>

#include "core/analysis.h"

namespace gf {

// `read`: files read already (by path, their bytes): an --arch file there is parsed from them
// instead of read again (a baseline replay, settings.h).
void add_network_options(CLI::App& command, AnalysisConfig& c,
                         const std::map<std::string, std::string>* read = nullptr);

}  // namespace gf
