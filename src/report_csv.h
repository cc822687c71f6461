#pragma once
// CSV: a header and one row per (activation, layer); undefined values are empty cells.
#include <functional>
#include <string>
#include <vector>

#include "analysis.h"

namespace gf {

std::string csv_number(double v);  // shortest round-trip form, "" if not finite
// Columns appended to every row (analyze --theory): names, and value(run, layer index, column).
struct ExtraColumns {
  std::vector<std::string> names;
  std::function<double(std::size_t, std::size_t, std::size_t)> value;
};
std::string analysis_csv(const AnalysisResult& result, const ExtraColumns* extra = nullptr);

}  // namespace gf
