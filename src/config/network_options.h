#pragma once
// The options that define a network and what is measured on it: shared by every subcommand
// that builds networks, so each flag is spelled, checked and documented once.
#include "config/cli_fwd.h"
#include <map>
#include <string>

#include "core/analysis.h"

namespace gf {

struct SharedFiles;  // model_options.h

// `files`: the files of the command (settings.h): an --arch file there (by path, its bytes) is
// parsed from them instead of read again (a grid's other readers, a baseline replay), and one read
// is kept there for them.
void add_network_options(CLI::App& command, AnalysisConfig& c, SharedFiles* files = nullptr);

}  // namespace gf
