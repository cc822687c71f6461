#pragma once
// What a batch of runs will cost, said before it starts: a time from a cost model calibrated
// on this machine in a few milliseconds, and the peak memory of the runs that can be in flight
// together. Estimates only: they go to stderr, never into results.
#include <cstdint>
#include <vector>

#include "core/analysis.h"

namespace gf {

// Seconds of one run on one thread: per_run + per_weight * weights drawn + per_mac * B * weights
// (a forward and two backward products per weight).
struct CostModel {
  double per_run = 0, per_weight = 0, per_mac = 0;
};

CostModel calibrate_cost_model();  // times three tiny runs of the real engine
double run_seconds(const CostModel& m, const AnalysisConfig& c);  // c has one activation
std::uint64_t run_bytes(const AnalysisConfig& c);                 // the engine's allocation

}  // namespace gf
