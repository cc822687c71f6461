#pragma once
// From records to answers: group records by some keys and describe a summary metric in each
// group (n, mean, std, min, max), or lay its mean out as a matrix over two keys (a pivot).
// The Pivot is the data a heatmap is drawn from (summarize --plot, issue 6).
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "batch/records.h"
#include "core/stats.h"

namespace gf {

// Over the finite values; undefined values (null in a record: the network overflowed, or the
// metric is undefined for it) are counted in nonfinite, never averaged in.
struct Describe {
  std::size_t n = 0, nonfinite = 0;
  double mean = kNaN, std = kNaN, min = kNaN, max = kNaN;  // std: sample (n-1), NaN for n < 2
  double se = kNaN;                                         // standard error of the mean, std / sqrt(n)
};
Describe describe(const std::vector<double>& finite_values, std::size_t nonfinite);
// The same over any values: the non-finite ones are counted in nonfinite, not described.
Describe describe_finite(std::span<const double> values);

// The values a key takes over the records, in order: numerically when all are numbers, else in
// order of first appearance (which is grid order for a sweep).
std::vector<nlohmann::ordered_json> key_values(const std::vector<Record>& records, const std::string& key);
// Config keys that take more than one value over the records, in config order.
std::vector<std::string> varying_keys(const std::vector<Record>& records);

struct Group {
  std::vector<nlohmann::ordered_json> key;  // one value per grouping key
  std::string metric;
  Describe stats;
};
// Groups in key order (the first key slowest), each metric in turn.
std::vector<Group> group_records(const std::vector<Record>& records, const std::vector<std::string>& by,
                                 const std::vector<std::string>& metrics);

struct Pivot {
  std::string metric, row_key, col_key;
  std::vector<nlohmann::ordered_json> rows, cols;
  std::vector<std::vector<Describe>> cells;  // [row][col]
  std::vector<std::string> averaged;         // other keys that vary inside the cells
};
Pivot make_pivot(const std::vector<Record>& records, const std::string& row_key,
                 const std::string& col_key, const std::string& metric);

// Throws UsageError when a key or metric is unknown, with the closest name.
void check_key(const std::vector<Record>& records, const std::string& key, const char* flag);
// A summary metric, or with `layers` a per-layer one; the other kind is refused with a hint.
void check_metric(const std::string& metric, bool layers);

// summarize --layers: each layer of each record (of `sweep --layers`) becomes a record of its
// own, with `layer` among its config keys and the layer's metrics as its summary. Throws
// UsageError naming a record that has no layers.
std::vector<Record> layer_records(const std::vector<Record>& records);

}  // namespace gf
