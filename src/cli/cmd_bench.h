#pragma once
// `gradflow bench`: what each activation costs, alone and inside a dense layer.
#include "config/cli_fwd.h"
#include <string>

#include "core/activation_bench.h"

namespace gf {

struct BenchOptions {
  ActivationBenchConfig config;
  std::string format = "table";
  std::string output = "-";
};

CLI::App* setup_bench(CLI::App& app, BenchOptions& o);
int run_bench(const BenchOptions& o);

// The report, as `gradflow bench` prints it.
std::string bench_table(const ActivationBenchResult& r);
std::string bench_json(const ActivationBenchResult& r);

}  // namespace gf
