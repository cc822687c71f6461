#include "report/junit.h"

#include <fmt/format.h>

#include "base/xml.h"

namespace gf {

std::string junit_xml(const std::vector<JUnitSuite>& suites) {
  std::size_t tests = 0, failures = 0;
  for (const JUnitSuite& s : suites)
    for (const JUnitCase& c : s.cases) {
      ++tests;
      failures += c.failed;
    }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"gradflow check\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
                     tests, failures);
  for (const JUnitSuite& s : suites) {
    std::size_t f = 0;
    for (const JUnitCase& c : s.cases) f += c.failed;
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n",
                       xml_escape(s.name), s.cases.size(), f);
    for (const JUnitCase& c : s.cases) {
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", xml_escape(c.classname),
                         xml_escape(c.name));
      if (!c.failed) {
        out += "/>\n";
        continue;
      }
      out += fmt::format(">\n      <failure message=\"{}\" type=\"gradflow.check\">{}</failure>\n    </testcase>\n",
                         xml_escape(c.message), xml_escape(c.details));
    }
    out += "  </testsuite>\n";
  }
  return out + "</testsuites>\n";
}

}  // namespace gf
