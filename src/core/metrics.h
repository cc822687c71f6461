#pragma once
// The per-layer metrics, declared once. Each entry says what a metric is (key, meaning, unit),
// which commands record it, how the detailed table prints it, what one count changes it by
// (check's --count-slack) and its neutral value (plots). JSON keys, CSV columns, the detailed
// and the seeds tables, sweep records, summarize, check rules and baselines, and train's
// records and trace all read this list; so does the README's test. Adding a metric is a field
// of LayerStats (stats.h), an entry here, and its computation.
#include <span>
#include <string_view>

#include "core/stats.h"

namespace gf {

// Which per-layer records carry a metric: analyze's (and sweep, check, summarize), train's.
enum class Recorded { analyze, train, both };

// What a count fraction counts, so what one count changes it by (baseline.cc's count_quantum):
// (sample, unit) pairs 1/(batch x width), units 1/width, signs of dW 2/(fan_in x width).
enum class Counts { none, unit_samples, units, weight_signs };

// A column of the detailed table (and of the seeds table): header, width, fmt spec of the value,
// and whether the value is a fraction shown as a percentage. `when_nonzero`: shown only where some
// layer has a value above 0 (rare quantities), after the other columns.
struct TableColumn {
  std::string_view header;
  int width = 0;
  std::string_view spec;
  bool percent = false;
  bool when_nonzero = false;
  // The column's line in the table's key ("{dtype}": the run's); the first columns, declared
  // without one, share the key's opening paragraph.
  std::string_view legend = {};
};

struct LayerMetric {
  std::string_view key;
  double LayerStats::*field;
  std::string_view description;   // as analyze measures it (the README's table)
  std::string_view unit;          // "1" for pure numbers and fractions
  Recorded recorded = Recorded::analyze;
  Counts counts = Counts::none;
  double neutral = kNaN;  // signed metrics: the value that means "neither" (0 for a log ratio or a mean)
  TableColumn column = {};        // header empty: not a column of the detailed table
  // Train's records: their key order (train_order), and what the value is measured on there.
  int train_order = -1;
  std::string_view train_description = {};

  bool in_analyze() const { return recorded != Recorded::train; }
  bool in_train() const { return recorded != Recorded::analyze; }
};

// Every declared metric, in analyze's output order.
std::span<const LayerMetric> declared_layer_metrics();
// The metrics of analyze's per-layer records (JSON, CSV, sweep records, check, summarize), in order.
std::span<const LayerMetric> layer_metrics();
// The metrics of train's per-layer log records (JSON report, trace), in their key order.
std::span<const LayerMetric> train_layer_metrics();
// The metric with this key among analyze's, or nullptr.
const LayerMetric* find_layer_metric(std::string_view key);

// The per-block metrics of residual nets (BlockStats), declared the same way: analyze's records
// carry them as `blocks`, after the per-layer ones.
struct BlockMetric {
  std::string_view key;
  double BlockStats::*field;
  std::string_view description;  // the README's table
  std::string_view unit;
};
std::span<const BlockMetric> block_metrics();
const BlockMetric* find_block_metric(std::string_view key);  // nullptr if none
// The block whose branch holds dense layer `layer` (first_layer..last_layer), or nullptr.
const BlockStats* block_of_layer(std::span<const BlockStats> blocks, Index layer);
// The block figures on a CSV row of one layer (analyze --format csv, sweep's CSV records with
// --layers), as the Jacobian's run figures repeat on each row: ",block,block_<key>..." in
// block_metrics' order, and the cells of the layer's block (empty outside any block).
std::string block_csv_header();
std::string block_csv_cells(std::span<const BlockStats> blocks, Index layer);

// Figures of a residual net as a whole, from its blocks: one value per run for `check` rules.
struct BlockRunMetric {
  std::string_view key;
  double (*value)(std::span<const BlockStats> blocks);  // NaN without blocks or with an undefined block value
  std::string_view description;
};
std::span<const BlockRunMetric> block_run_metrics();
const BlockRunMetric* find_block_run_metric(std::string_view key);  // nullptr if none

}  // namespace gf
