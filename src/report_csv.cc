#include "report_csv.h"

#include <cmath>
#include <fmt/format.h>

namespace gf {

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

std::string analysis_csv(const AnalysisResult& result) {
  std::string out = "activation,init,layer,fan_in,width";
  for (const LayerMetric& m : layer_metrics()) out += fmt::format(",{}", m.key);
  out += '\n';
  for (const RunResult& r : result.runs) {
    for (const LayerStats& l : r.pass.layers) {
      out += fmt::format("{},{},{},{},{}", r.activation, r.init, l.layer, l.fan_in, l.width);
      for (const LayerMetric& m : layer_metrics()) {
        out += ',';
        out += csv_number(l.*m.field);
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace gf
