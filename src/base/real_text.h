#pragma once
// Reading a real number as people write one: 0.25, 1e-3, or a fraction such as 25/9 or 5/3 (the
// classic init settings are written that way). For every numeric flag, config value and range.
#include <string>
#include <string_view>

namespace gf {

// A finite number, or a fraction P/Q of two (Q not 0), into v. False otherwise.
bool parse_real_text(std::string_view text, double& v);

// The text is a number (or a fraction of two) but one beyond a double's range (1e999, 1e-999):
// the error message says so instead of "not a number".
bool beyond_double_range(std::string_view text);

// And back: the shortest text that reads back as v (CSV cells, tables), "" if v is not finite.
std::string csv_number(double v);

}  // namespace gf
