#pragma once
// What `gradflow check` found, and its three renderings: the table on stdout, --format json, and
// --junit XML (one testcase per rule and per compared metric of each run).
#include <cstddef>
#include <string>
#include <vector>

#include "batch/baseline.h"
#include "batch/rules.h"

namespace gf {

struct CheckReport {
  const Baseline* baseline = nullptr;
  Tolerance tol;
  bool update = false;  // the baseline is rewritten: its differences are shown, not failed
  std::vector<ComparisonGroup> groups;
  std::vector<std::string> not_in_baseline;
  std::string current;                       // compare mode: where the current config came from
  std::vector<ConfigChange> changes;         // config keys that differ from the baseline's
  std::vector<std::string> runs_not_in_baseline;
  std::vector<Rule> rules;
  std::vector<RuleOutcome> outcomes;  // one per rule
  std::size_t runs = 0;

  std::size_t failed_groups() const;
  std::size_t failed_rules() const;
  std::size_t checks() const;
  bool passed() const { return failed_groups() == 0 && failed_rules() == 0; }
};

// max_rows: table rows shown per failed check (JSON and JUnit list every one).
std::string check_table(const CheckReport& r, std::size_t max_rows);
std::string check_json(const CheckReport& r);
std::string check_junit(const CheckReport& r);

}  // namespace gf
