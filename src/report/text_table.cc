#include "report/text_table.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/utf8.h"

namespace gf {

std::string table_number(double v) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.4g}", v);
}

std::string common_format(const std::vector<double>& values) {
  double top = 0;
  bool whole = true;
  for (const double v : values)
    if (std::isfinite(v)) {
      top = std::max(top, std::fabs(v));
      whole = whole && v == std::round(v);
    }
  if (whole && top < 1e5) return ".0f";
  if (top >= 1e5 || top < 1e-3) return ".3e";
  const int decimals = std::clamp(3 - static_cast<int>(std::floor(std::log10(top))), 0, 6);
  return fmt::format(".{}f", decimals);
}

std::string format_number(double v, const std::string& spec) {
  if (!std::isfinite(v)) return "-";
  return fmt::format(fmt::runtime("{:" + spec + "}"), v);
}

std::string TextTable::render(const std::string& indent) const {
  // Cells may hold text from files (a record's labels, a baseline's run names): control
  // characters escaped, so each stays in its cell and none reaches the terminal.
  auto shown = [](const std::vector<std::string>& cells) {
    std::vector<std::string> out;
    for (const std::string& c : cells) out.push_back(printable_line(c));
    return out;
  };
  const std::vector<std::string> head = shown(header);
  std::vector<std::vector<std::string>> body;
  for (const auto& row : rows) body.push_back(shown(row));
  std::vector<std::size_t> width(head.size(), 0);
  for (std::size_t c = 0; c < head.size(); ++c) width[c] = head[c].size();
  for (const auto& row : body)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent;
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      const bool r = c < right.size() && right[c];
      if (c) out += "  ";
      out += r ? fmt::format("{:>{}}", cell, width[c]) : fmt::format("{:<{}}", cell, width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(head);
  for (const auto& row : body) out += line(row);
  return out;
}

}  // namespace gf
