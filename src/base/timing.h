#pragma once
// Wall-clock timing for benchmarks: a monotonic clock and the order statistics of repeated
// measurements (medians and quartiles, never means: one preempted repetition on a shared
// machine must not move the figure).
#include <chrono>
#include <vector>

namespace gf {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds taken by f(), once.
template <class F>
double time_once(F&& f) {
  const double t0 = now_seconds();
  f();
  return now_seconds() - t0;
}

struct Quartiles {
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
  double iqr() const { return q3 - q1; }
};

// Quartiles by linear interpolation between order statistics (the "type 7" rule of R and
// numpy). Empty input gives all zeros.
Quartiles quartiles_of(std::vector<double> samples);

}  // namespace gf
