#include "report/report_csv.h"
#include "core/jacobian_record.h"
#include "core/metrics.h"

#include <cmath>
#include <fmt/format.h>

#include "base/csv_text.h"

namespace gf {

std::string analysis_csv(const AnalysisResult& result, const ExtraColumns* extra) {
  // --model: the run is the model file, and each layer has its name in it.
  const bool model = result.config.model != nullptr;
  std::string out = model ? "model,init,layer,name,fan_in,width" : "activation,init,layer,fan_in,width";
  for (const LayerMetric& m : layer_metrics()) out += fmt::format(",{}", m.key);
  // --jacobian's figures are per run: repeated on each of its rows, as records repeat the summary;
  // --jacobian-depths' partials after them, in the order given (as in the JSON and the table).
  const bool jac = result.config.jacobian;
  const std::vector<Index>& partials = result.config.jacobian_depths;
  if (jac) out += jacobian_csv_header(partials);
  // Residual nets: each layer row carries its block's figures (empty outside a block).
  bool blocks = false;
  for (const RunResult& r : result.runs) blocks = blocks || !r.pass.blocks.empty();
  if (blocks) out += block_csv_header();
  if (extra)
    for (const std::string& name : extra->names) out += "," + name;
  out += '\n';
  for (std::size_t ri = 0; ri < result.runs.size(); ++ri) {
    const RunResult& r = result.runs[ri];
    for (std::size_t li = 0; li < r.pass.layers.size(); ++li) {
      const LayerStats& l = r.pass.layers[li];
      if (model) {
        const auto k = static_cast<std::size_t>(l.layer - 1);
        out += fmt::format("{},{},{},{},{},{}", csv_text(result.config.model_path), csv_text(r.init), l.layer,
                           csv_text(k < r.layer_names.size() ? r.layer_names[k] : ""), l.fan_in, l.width);
      } else {
        out += fmt::format("{},{},{},{},{}", csv_text(r.activation), csv_text(r.init), l.layer, l.fan_in, l.width);
      }
      for (const LayerMetric& m : layer_metrics()) {
        out += ',';
        out += csv_number(l.*m.field);
      }
      if (jac) out += jacobian_csv_cells(r, partials);
      if (blocks) out += block_csv_cells(r.pass.blocks, l.layer);
      if (extra)
        for (std::size_t k = 0; k < extra->names.size(); ++k) out += "," + csv_number(extra->value(ri, li, k));
      out += '\n';
    }
  }
  return out;
}

}  // namespace gf
