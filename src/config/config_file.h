#pragma once
// --config FILE.json: a JSON object whose keys are a subcommand's long option names. Applied
// after the command line is parsed, and only to options the command line left unset, so flags
// override the file. A "description" key is free text for people. A relative path of a file the
// run reads (model, data, arch, baseline) is taken from the config file's directory, as most tools
// do, so a config and the files beside it work from any directory; outputs stay where the
// command runs.
#include "config/cli_fwd.h"
#include <nlohmann/json.hpp>
#include <string>

namespace gf {

// For --config's help: the rule above in one sentence.
inline constexpr const char* kConfigPathsHelp =
    "relative paths of the files it names (model, data, arch, baseline) are taken from its own directory";

// Throws UsageError naming the file, and for bad JSON its line and column; for an unknown key,
// the closest valid key.
void apply_config_file(CLI::App& command, const std::string& path);
// The same for a parsed object; `source` starts every message ("--config FILE").
void apply_config_json(CLI::App& command, const nlohmann::json& doc, const std::string& source);

}  // namespace gf
