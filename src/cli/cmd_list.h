#pragma once
// `gradflow list`: the activation table and the initialisation schemes.
#include "config/cli_fwd.h"
#include <string>

namespace gf {

struct ListOptions {
  std::string format = "table";
};

CLI::App* setup_list(CLI::App& app, ListOptions& o);
int run_list(const ListOptions& o);

}  // namespace gf
