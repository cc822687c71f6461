#pragma once
// The reports of `gradflow theory` (table, JSON, CSV; also of --phase-diagram), and the
// theory columns `analyze --theory` adds beside its measurements. Nothing here is written
// unless theory was asked for, so analyze's own output stays as it was.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/report_csv.h"
#include "report/report_table.h"
#include "theory/theory.h"
#include "theory/theory_compare.h"

namespace gf {

nlohmann::ordered_json theory_config_json(const TheoryConfig& c);
std::string theory_json(const TheoryConfig& c, const std::vector<TheoryResult>& results);
std::string theory_csv(const std::vector<TheoryResult>& results);
std::string theory_table(const TheoryConfig& c, const std::vector<TheoryResult>& results, const TableOptions& o);

std::string phase_json(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams);
std::string phase_csv(const std::vector<PhaseDiagram>& diagrams);
std::string phase_table(const TheoryConfig& c, const std::vector<PhaseDiagram>& diagrams, const Style& s);

// analyze --theory: keys added to each layer record and a "theory" block per run.
void add_theory_json(nlohmann::ordered_json& analysis_doc, const std::vector<TheoryComparison>& theory);
ExtraColumns theory_columns(const std::vector<TheoryComparison>& theory);
std::string comparison_table(const AnalysisResult& result, const std::vector<TheoryComparison>& theory,
                             const TableOptions& o);

}  // namespace gf
