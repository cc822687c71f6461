#include "core/jacobian_record.h"

#include <charconv>
#include <fmt/format.h>

#include "base/real_text.h"

namespace gf {

namespace {
constexpr std::string_view kFrom = "_from_";
}  // namespace

std::optional<JacobianFigure> parse_jacobian_figure(std::string_view name) {
  if (const JacobianMetric* m = find_jacobian_metric(name)) return JacobianFigure{m, std::nullopt};
  const std::size_t at = name.rfind(kFrom);
  if (at == std::string_view::npos) return std::nullopt;
  const JacobianMetric* m = find_jacobian_metric(name.substr(0, at));
  const std::string_view digits = name.substr(at + kFrom.size());
  Index from = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), from);
  // Digits only, written as CSV headers write them: "from_016" or "from_+1" is no column's name.
  if (!m || ec != std::errc() || end != digits.data() + digits.size() || from < 0 ||
      std::to_string(from) != digits)
    return std::nullopt;
  return JacobianFigure{m, from};
}

std::string partial_jacobian_name(const JacobianMetric& m, Index from) {
  return fmt::format("{}{}{}", m.key, kFrom, from);
}

const JacobianStats* jacobian_from(const RunResult& r, Index from) {
  if (!r.jacobian) return nullptr;
  if (from == 0) return &*r.jacobian;  // d a_L / d a_0 = J, measured with every --jacobian
  for (const PartialJacobianStats& p : r.jacobian_partials)
    if (p.layer == from) return &p.stats;
  return nullptr;
}

double jacobian_value(const RunResult& r, const JacobianFigure& f) {
  const JacobianStats* s = jacobian_from(r, f.from.value_or(0));
  return s ? s->*(f.metric->field) : kNaN;
}

std::string jacobian_csv_header(const std::vector<Index>& partials) {
  std::string out;
  for (const JacobianMetric& m : jacobian_metrics()) out += fmt::format(",{}", m.key);
  for (const Index l : partials)
    for (const JacobianMetric& m : jacobian_metrics()) out += "," + partial_jacobian_name(m, l);
  return out;
}

std::string jacobian_csv_cells(const RunResult& r, const std::vector<Index>& partials) {
  std::string out;
  auto cells = [&](const JacobianStats* s) {
    for (const JacobianMetric& m : jacobian_metrics()) out += "," + (s ? csv_number(s->*m.field) : std::string());
  };
  cells(jacobian_from(r, 0));
  for (const Index l : partials) cells(jacobian_from(r, l));
  return out;
}

}  // namespace gf
