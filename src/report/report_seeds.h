#pragma once
// The reports of `analyze --seed A:B`: mean +- standard error of every metric over the seeds.
// Table: several activations side by side (gradient, saturated and dead shares per layer), one
// activation with every metric; then every summary metric, and how many seeds got each verdict.
// JSON: {"mean", "se", "n"} per metric, per activation and layer; every seed's run with per_seed.
// CSV: a row per (activation, layer), columns <metric>_mean, <metric>_se, <metric>_n.
#include <string>

#include "batch/seed_stats.h"
#include "report/report_table.h"

namespace gf {

std::string seeds_table(const SeedAnalysis& a, const TableOptions& o);
std::string seeds_json(const SeedAnalysis& a, bool per_seed);
std::string seeds_csv(const SeedAnalysis& a);

}  // namespace gf
