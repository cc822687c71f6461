#pragma once
// The man page and the bash, zsh and fish completions, written from the CLI11 App that makes
// --help, so they list the same commands, options, value names, defaults and choices and cannot
// drift from it. The build runs gradflow-gen-docs (gen_docs_main.cc) to write them into
// build/share; `cmake --install` and the .deb install them from there.
#include <string>
#include <string_view>
#include <vector>

#include "config/cli_fwd.h"

namespace gf {

// roff for man(1): NAME, SYNOPSIS, DESCRIPTION, COMMANDS, one section per command with its
// options by group, EXIT STATUS.
std::string man_page(CLI::App& app, std::string_view version);
std::string bash_completion(CLI::App& app);
std::string zsh_completion(CLI::App& app);
std::string fish_completion(CLI::App& app);

// The allowed values of an option, as validators.h records them ({} if any value goes).
std::vector<std::string> option_choices(const CLI::App& command, std::string_view long_name);

}  // namespace gf
