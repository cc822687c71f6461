#pragma once
// A run's --jacobian figures by name, for everything outside the JSON document: CSV columns,
// check rules and baselines. "jac_s2_mean" is a figure of J = d a_L / d x (jacobian_metrics());
// "jac_s2_mean_from_16" the same figure of the partial Jacobian d a_L / d a_16 that
// --jacobian-depths adds (from_0 is J again). One name reads the same in a CSV header, a rule
// and a baseline's report.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"

namespace gf {

struct JacobianFigure {
  const JacobianMetric* metric = nullptr;
  std::optional<Index> from;  // set: the partial d a_L / d a_from; unset: J
};

// The figure a name stands for; nullopt for any other name.
std::optional<JacobianFigure> parse_jacobian_figure(std::string_view name);
std::string partial_jacobian_name(const JacobianMetric& m, Index from);  // "jac_s2_mean_from_16"

// The figures of d a_L / d a_from (0: J itself); nullptr where not measured: no --jacobian, a
// run that overflowed, or `from` not among --jacobian-depths (0 is always J).
const JacobianStats* jacobian_from(const RunResult& r, Index from);
double jacobian_value(const RunResult& r, const JacobianFigure& f);  // NaN where not measured

// CSV: the jac_ figures, then for each l of `partials` the same figures of d a_L / d a_l as
// jac_<figure>_from_<l>. Each column (and cell) with its leading comma; a figure not measured,
// or undefined, is an empty cell.
std::string jacobian_csv_header(const std::vector<Index>& partials);
std::string jacobian_csv_cells(const RunResult& r, const std::vector<Index>& partials);

}  // namespace gf
