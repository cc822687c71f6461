#pragma once
// CSV: a header and one row per (activation, layer); undefined values are empty cells.
#include <string>

#include "analysis.h"

namespace gf {

std::string csv_number(double v);  // shortest round-trip form, "" if not finite
std::string analysis_csv(const AnalysisResult& result);

}  // namespace gf
