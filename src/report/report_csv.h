#pragma once
// CSV: a header and one row per (activation, layer); undefined values are empty cells.
#include <functional>
#include <string>
#include <vector>

#include "base/real_text.h"
#include "core/analysis.h"

namespace gf {

// Columns appended to every row (analyze --theory): names, and value(run, layer index, column).
struct ExtraColumns {
  std::vector<std::string> names;
  std::function<double(std::size_t, std::size_t, std::size_t)> value;
};
std::string analysis_csv(const AnalysisResult& result, const ExtraColumns* extra = nullptr);

}  // namespace gf
