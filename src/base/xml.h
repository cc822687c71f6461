#pragma once
// Text inside XML (SVG plots, JUnit reports): the five special characters as entities, and the
// control characters XML 1.0 forbids (all but tab, newline, carriage return) as spaces.
#include <string>
#include <string_view>

namespace gf {

std::string xml_escape(std::string_view text);

}  // namespace gf
