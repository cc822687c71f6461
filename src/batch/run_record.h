#pragma once
// One run of a sweep as a record: a JSONL line or CSV row(s), identified by its run_id.
//
// JSONL record (keys in this order; one line, no spaces):
//   schema_version, run_id,
//   config         every key of `analyze`'s config block (the long option names), for this run:
//                  activation is a name, width a number (or the per-layer list when they differ)
//   resolved_init  the init actually used ("he_normal", "sigma_w2=2", ...)
//   finite, overflow_layer, zero_grad_layer, summary   as in `analyze --format json`
//   layers         with --layers: the per-layer records of `analyze --format json`
//   blocks         residual nets: the per-block records of `analyze --format json`
//
// run_id: FNV-1a 64-bit hash of the config object serialised compactly (nlohmann's dump(), keys
// in the order above), as 16 hex digits. It depends on nothing but the fully resolved config,
// so the same run has the same id in every sweep, shard, machine and -j.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/fnv1a.h"  // fnv1a64: the run_id
#include "core/analysis.h"

namespace gf {

nlohmann::ordered_json record_config(const AnalysisConfig& c, bool every_key = false);  // c has a single activation
std::string run_id_of(const nlohmann::ordered_json& record_config);

// The JSONL line, '\n' included.
std::string record_jsonl(const AnalysisConfig& c, const RunResult& r, bool layers);

// CSV: the header, and one row per run (or per layer, with layers). Columns: run_id, every
// config key, resolved_init, finite, overflow_layer, zero_grad_layer, the summary metrics
// (summary_loss: `loss` is the --loss option), verdict; with jacobian, the jac_ figures and
// for each l of `partials` the jac_<figure>_from_<l> ones (jacobian_record.h); with layers,
// layer, layer_fan_in, layer_width and layer_<metric>, and with blocks (a sweep that may build
// residual nets) block and block_<metric> of the layer's block (metrics.h's block_csv_cells). A per-layer width list is written
// "64;32;16", verdicts "vanishing;saturated", undefined numbers (and figures a run did not
// measure) as empty cells. The columns are fixed before the first run: a sweep's header holds
// every run's row.
struct RecordColumns {
  bool layers = false;
  bool jacobian = false;        // --jacobian (on for every run or none): its config keys and figures
  std::vector<Index> partials;  // every l of --jacobian-depths in the sweep, ascending
  bool blocks = false;          // with layers: residual nets may be built (--residual, --arch or --model)
  bool model = false;           // --model given: its path, content hash, weights-from, bn-mode
  bool data = false;            // --data given: its path, content hash, label-col
};
std::string record_csv_header(const RecordColumns& columns);
std::string record_csv(const AnalysisConfig& c, const RunResult& r, const RecordColumns& columns);

// The run_id of a record line written by either format; "" if the line is not a record.
std::string run_id_of_line(std::string_view line, bool csv);

// Whether `text` (a last line without its newline) can be the start of a record line of the
// format: what a write cut short by a crash or a full disk leaves. Anything else at the end of a
// record file is not a torn record but something that was never one.
bool is_torn_record(std::string_view text, bool csv);

}  // namespace gf
