#pragma once
// JUnit XML, the test report format CI systems display (GitHub Actions through a reporter
// action, GitLab natively via artifacts:reports:junit, Jenkins): one <testsuite> per kind of
// check, one <testcase> per check, a <failure> inside each that failed.
#include <string>
#include <vector>

namespace gf {

struct JUnitCase {
  std::string classname, name;
  bool failed = false;
  std::string message;  // one line: the failure attribute
  std::string details;  // the failure's text: a table of what fell outside
};

struct JUnitSuite {
  std::string name;
  std::vector<JUnitCase> cases;
};

std::string junit_xml(const std::vector<JUnitSuite>& suites);

}  // namespace gf
