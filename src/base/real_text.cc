#include "base/real_text.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace gf {

bool parse_real_text(std::string_view text, double& v) {
  auto number = [](std::string_view t, double& x) {
    const char* end = t.data() + t.size();
    const auto [p, ec] = std::from_chars(t.data(), end, x);
    return !t.empty() && ec == std::errc() && p == end && std::isfinite(x);
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return number(text, v);
  double num = 0, den = 0;
  if (!number(text.substr(0, slash), num) || !number(text.substr(slash + 1), den) || den == 0) return false;
  v = num / den;
  return std::isfinite(v);
}

bool beyond_double_range(std::string_view text) {
  auto out_of_range = [](std::string_view t) {
    double x = 0;
    const char* end = t.data() + t.size();
    const auto [p, ec] = std::from_chars(t.data(), end, x);
    return !t.empty() && ec == std::errc::result_out_of_range && p == end;
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return out_of_range(text);
  return out_of_range(text.substr(0, slash)) || out_of_range(text.substr(slash + 1));
}

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

}  // namespace gf
