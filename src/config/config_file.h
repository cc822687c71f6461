#pragma once
// --config FILE.json: a JSON object whose keys are a subcommand's long option names. Applied
// after the command line is parsed, and only to options the command line left unset, so flags
// override the file. A "description" key is free text for people.
#include "config/cli_fwd.h"
#include <nlohmann/json.hpp>
#include <string>

namespace gf {

// Throws UsageError naming the file, and for bad JSON its line and column; for an unknown key,
// the closest valid key.
void apply_config_file(CLI::App& command, const std::string& path);
// The same for a parsed object; `source` starts every message ("--config FILE").
void apply_config_json(CLI::App& command, const nlohmann::json& doc, const std::string& source);

}  // namespace gf
