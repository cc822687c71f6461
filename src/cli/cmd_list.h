#pragma once
// `gradflow list`: the activation table and the initialisation schemes; with --model, the
// layers gradflow sees in an ONNX file.
#include "config/cli_fwd.h"
#include <string>

namespace gf {

struct ListOptions {
  std::string format = "table";
  std::string model;  // FILE.onnx: the layers gradflow maps from it, instead of the tables
};

CLI::App* setup_list(CLI::App& app, ListOptions& o);
int run_list(const ListOptions& o);

}  // namespace gf
