#pragma once
// The JSON document of an analysis (schema_version 1): the context, the config and each run as
// core/run_json.h writes it.
#include <nlohmann/json.hpp>
#include <string>

#include "core/analysis.h"
#include "core/run_json.h"

namespace gf {

nlohmann::ordered_json analysis_document(const AnalysisResult& result);
std::string analysis_json(const AnalysisResult& result);  // analysis_document, dumped

}  // namespace gf
