#pragma once
// The JSON document of an analysis (schema_version 1). Non-finite numbers never appear: a
// quantity that is undefined (the forward pass overflowed, the gradient is exactly zero) is
// null, and the run says why in overflow_layer / zero_grad_layer.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis.h"

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
nlohmann::ordered_json config_json(const AnalysisConfig& c);
nlohmann::ordered_json summary_json(const Summary& s);
nlohmann::ordered_json layer_json(const LayerStats& l);
nlohmann::ordered_json run_json(const RunResult& r);
nlohmann::ordered_json analysis_document(const AnalysisResult& result);
std::string analysis_json(const AnalysisResult& result);  // analysis_document, dumped

}  // namespace gf
