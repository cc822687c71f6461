#include "base/csv_text.h"

namespace gf {

std::string csv_text(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (const char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string csv_line_text(std::string_view v) {
  std::string one_line;
  for (const char ch : v) one_line += ch == '\n' ? std::string("\\n") : ch == '\r' ? std::string("\\r") : std::string(1, ch);
  return csv_text(one_line);
}

}  // namespace gf
