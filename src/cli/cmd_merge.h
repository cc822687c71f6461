#pragma once
// `gradflow merge`: the records of several sweep files (shards) as one JSONL file, each run
// once. Duplicates by run_id are dropped; the same run with different results is an error.
#include "config/cli_fwd.h"
#include <string>
#include <vector>

namespace gf {

struct MergeOptions {
  std::vector<std::string> files;
  std::string output = "-";
};

CLI::App* setup_merge(CLI::App& app, MergeOptions& o);
int run_merge(const MergeOptions& o);

}  // namespace gf
