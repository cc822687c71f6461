#pragma once
// The whole App, parsed in-process as `gradflow ARGS...` would be, without running anything.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace gf::test {

inline void parse(Cli& cli, std::vector<std::string> args) {
  args.insert(args.begin(), "gradflow");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  cli.app->parse(static_cast<int>(argv.size()), argv.data());
}

}  // namespace gf::test
