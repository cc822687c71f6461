#pragma once
// Usage errors as the tests see them: the message of the UsageError a call throws (in process),
// and the binary's report of one (exit 2, one `gradflow: error:` line on stderr, nothing on
// stdout).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "base/errors.h"
#include "process.h"

namespace gf::test {

// The message of the UsageError f throws, or "" if it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Runs gradflow with args and checks a usage error: exit 2, nothing on stdout, one line on stderr
// starting `gradflow: error: ` and containing every fragment.
inline void check_usage_error(const std::vector<std::string>& args,
                              const std::vector<std::string>& fragments) {
  CAPTURE(args);
  const ProcessResult r = run_gradflow(args);
  CAPTURE(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("gradflow: error: ", 0) == 0);
  for (const std::string& f : fragments) CHECK(contains(r.err, f));
}

}  // namespace gf::test
