#pragma once
// The grid of a sweep (or of a multi-run check): every network option of `analyze` may take a
// list or a range (axis_values.h), and the runs are the Cartesian product of the axes.
//
// Order: axes in the order of `gradflow analyze --help` (activation, depth, width, input-dim,
// batch, classes, input, loss, leaky-slope, init, sigma-w2, weight-std, bias-init, sigma-b2,
// seed, sat-eps, dtype, the verdict thresholds), the last axis varying fastest, like nested
// for-loops written in that order. Run i of the grid never depends on -j or --shard.
//
// A grid point becomes an AnalysisConfig by parsing `--name value` for each axis with the same
// CLI11 options `analyze` uses (network_options.h), then validate(): every value and every
// combination is checked, with the same messages, before the first run starts.
#include "config/cli_fwd.h"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/axis_values.h"
#include "core/analysis.h"

namespace gf {

struct SharedFiles;  // config/model_options.h

struct GridOptions {
  std::vector<std::string> names;               // long option names, in help order
  std::vector<std::vector<std::string>> given;  // the text of each option given (one), same order
  // The files the command reads (--arch, --model, --data), each read once: by the check of a flag
  // as it is read, then by the grid's configs (add_grid_options makes it; null: the grid's own).
  std::shared_ptr<SharedFiles> files;
  bool any_given() const;
  bool was_given(const std::string& name) const;  // --name (long name, no dashes) was given
};

// One list/range option per network option (all but --threads, which never changes a result
// and is the sweep's own), with the same names, help, group and default. Each is given once;
// its text is checked as it is read (syntax, list values, the ends of ranges), so a bad value
// fails the same way on the command line and in a config file.
void add_grid_options(CLI::App& cmd, GridOptions& g);
// The kind of a grid option's values: integer or real ranges, names, or files.
AxisKind axis_kind(const std::string& name);

struct Axis {
  std::string name;
  AxisKind kind = AxisKind::text;
  std::vector<std::string> values;
};

class Grid {
 public:
  // Expands every axis and checks each value on its own; throws UsageError. An axis with more
  // than max_runs values is refused before it is expanded, a grid of more than max_runs runs
  // before any run is resolved.
  Grid(const GridOptions& g, std::uint64_t max_runs);
  ~Grid();
  Grid(Grid&&) noexcept;

  std::uint64_t size() const { return size_; }
  const std::vector<Axis>& axes() const { return axes_; }
  // "3 activation x 10 depth x 5 seed" (axes with more than one value), or "1 run".
  std::string shape() const;
  // The value of each axis in run i.
  std::vector<std::string> values(std::uint64_t i) const;
  // "activation=tanh depth=20 seed=3": the axes with more than one value, but `skip`.
  std::string label(std::uint64_t i, std::string_view skip = "") const;
  // The resolved, validated configuration of run i (a single activation, threads unset).
  // Throws UsageError prefixed with the run's label. Thread-safe; cheapest walked in order.
  AnalysisConfig config(std::uint64_t i) const;

 private:
  struct Resolver;
  std::vector<Axis> axes_;
  std::uint64_t size_ = 1;
  std::unique_ptr<Resolver> resolver_;
};

// --shard K/N: run i belongs to shard K when i % N == K - 1 (interleaved, so slow and fast runs
// spread evenly over the shards).
struct Shard {
  std::uint64_t k = 1, n = 1;
  bool contains(std::uint64_t i) const { return i % n == k - 1; }
};
CLI::Validator shard_spec();
Shard parse_shard(const std::string& text);  // after shard_spec() has checked it

}  // namespace gf
