#include "report/report_csv.h"
#include "core/jacobian_record.h"
#include "core/metrics.h"

#include <cmath>
#include <fmt/format.h>

namespace gf {

std::string analysis_csv(const AnalysisResult& result, const ExtraColumns* extra) {
  std::string out = "activation,init,layer,fan_in,width";
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
      out += fmt::format("{},{},{},{},{}", r.activation, r.init, l.layer, l.fan_in, l.width);
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
