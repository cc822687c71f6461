#include "report/report_json.h"

#include "base/json_io.h"
#include "core/run_json.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

ojson analysis_document(const AnalysisResult& result) {
  ojson runs = ojson::array();
  for (const RunResult& r : result.runs) runs.push_back(run_json(r));
  return {{"schema_version", kSchemaVersion},
          {"tool", "gradflow"},
          {"version", GRADFLOW_VERSION},
          {"command", "analyze"},
          {"context", context_json(result.config.dtype)},
          {"config", config_json(result.config)},
          {"runs", std::move(runs)}};
}

std::string analysis_json(const AnalysisResult& result) { return dump_json(analysis_document(result), 2) + "\n"; }

}  // namespace gf
