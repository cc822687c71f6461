#pragma once
// One run as JSON values: the one mapping of a config, a summary and the per-layer records to
// keys, which analyze's document, sweep records, baselines and checks all share. Non-finite
// numbers never appear: an undefined quantity is null, and the run says why (overflow_layer,
// zero_grad_layer, inexact_layer).
#include <nlohmann/json.hpp>
#include <optional>

#include "core/analysis.h"

namespace gf {

inline constexpr int kSchemaVersion = 1;

nlohmann::ordered_json number_or_null(double v);
// An absent value is null, not a made-up number.
template <class T>
nlohmann::ordered_json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json context_json(Dtype dtype);
// Keys are the long option names, so a document's config can be fed back with --config.
// Keys of settings off by default (--residual) only when set, so plain runs' documents and
// run_ids stay as they were; `every_key`: always (CSV columns, config comparisons).
nlohmann::ordered_json config_json(const AnalysisConfig& c, bool every_key = false);
// The residual settings' keys (analyze's and train's configs): when --residual is set, or always.
void add_residual_keys(nlohmann::ordered_json& j, const AnalysisConfig& c, bool every_key);
// The same for --norm's keys.
void add_norm_keys(nlohmann::ordered_json& j, const AnalysisConfig& c, bool every_key);
// And --dropout's key.
void add_dropout_key(nlohmann::ordered_json& j, const AnalysisConfig& c, bool every_key);
nlohmann::ordered_json summary_json(const Summary& s);
nlohmann::ordered_json layer_json(const LayerStats& l);
// --jacobian's figures (jacobian_stats.h), keyed as declared.
nlohmann::ordered_json jacobian_json(const JacobianStats& s);
nlohmann::ordered_json run_json(const RunResult& r);

}  // namespace gf
