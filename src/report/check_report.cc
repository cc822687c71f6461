#include "report/check_report.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/json_io.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "report/junit.h"
#include "report/report_json.h"
#include "report/text_table.h"

namespace gf {

using ojson = nlohmann::ordered_json;

std::size_t CheckReport::failed_groups() const {
  std::size_t n = 0;
  for (const ComparisonGroup& g : groups) n += !g.mismatches.empty();
  return update ? 0 : n;
}

std::size_t CheckReport::failed_rules() const {
  std::size_t n = 0;
  for (const RuleOutcome& o : outcomes) n += !o.violations.empty();
  return n;
}

std::size_t CheckReport::checks() const { return (update ? 0 : groups.size()) + rules.size(); }

namespace {

std::string num(double v, const char* spec = "{:.6g}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : std::string("-");
}
std::string num(const ojson& v) {
  return v.is_number() ? num(v.get<double>()) : v.is_string() ? v.get<std::string>() : "null";
}
std::string layer_text(Index l) { return l ? std::to_string(l) : "-"; }
// A layer's number, and with --model its name in the file ("2 (0.weight)").
std::string layer_text(Index l, const std::string& name) {
  return name.empty() ? layer_text(l) : fmt::format("{} ({})", l, name);
}
std::string layer_text(const Violation& v) { return layer_text(v.layer, v.name); }

// One row per metric outside tolerance: at its worst layer (the largest difference against what
// is allowed), with how many of its values are outside. JSON and JUnit list every value.
TextTable mismatch_table(const CheckReport& r, std::size_t max_rows, std::size_t& shown, std::size_t& total) {
  TextTable t;
  t.header = {"run", "layer", "metric", "outside", "expected", "got", "difference", "allowed"};
  t.right = {false, true, false, true, true, true, true, true};
  shown = total = 0;
  for (const ComparisonGroup& g : r.groups) {
    if (g.mismatches.empty()) continue;
    ++total;
    if (shown >= max_rows) continue;
    ++shown;
    auto badness = [](const Mismatch& m) {
      return std::isfinite(m.difference) ? std::fabs(m.difference) / std::max(m.allowed, 1e-300) : INFINITY;
    };
    const Mismatch& m = *std::max_element(g.mismatches.begin(), g.mismatches.end(),
                                          [&](const Mismatch& a, const Mismatch& b) { return badness(a) < badness(b); });
    t.rows.push_back({g.run, g.scope == "blocks" ? "block " + layer_text(m.layer) : layer_text(m.layer, m.name), g.metric, fmt::format("{}/{}", g.mismatches.size(), g.compared),
                      num(m.expected), num(m.got), num(m.difference, "{:+.3g}"), num(m.allowed, "{:.2g}")});
  }
  return t;
}

TextTable violation_table(const Rule& rule, const RuleOutcome& out, std::size_t max_rows) {
  TextTable t;
  t.header = {"config", "activation", "layer", "metric", "value", "bound"};
  t.right = {false, false, true, false, true, false};
  for (std::size_t k = 0; k < out.violations.size() && k < max_rows; ++k) {
    const Violation& v = out.violations[k];
    t.rows.push_back({v.config, v.activation, rule.per_block ? "block " + layer_text(v.layer) : layer_text(v),
                      rule.metric, num(v.value), rule.bound_text()});
  }
  return t;
}

std::string check_lines(const CheckReport& r, std::size_t max_rows) {
  std::string out;
  std::vector<std::string> parts;
  if (r.baseline) parts.push_back(fmt::format("baseline {}", printable_line(r.baseline->path)));
  if (!r.current.empty()) parts.push_back(fmt::format("compared with the network of {}", printable_line(r.current)));
  else if (r.baseline) parts.push_back("rerun from its own config");
  parts.push_back(fmt::format("{} run{}", r.runs, r.runs == 1 ? "" : "s"));
  if (!r.rules.empty()) parts.push_back(fmt::format("{} rule{}", r.rules.size(), r.rules.size() == 1 ? "" : "s"));
  out += "gradflow check: " + join(parts) + "\n";
  if (!r.current.empty()) {
    if (r.changes.empty()) out += "config: as recorded in the baseline\n";
    for (const ConfigChange& c : r.changes) out += "config changed: " + printable_line(c.text()) + "\n";
  } else if (r.baseline) {
    // A rerun of the recorded config whose weights this gradflow draws with another scheme
    // (run_check adds "init (<run>)" changes): the cause of the mismatches, said before them.
    for (const ConfigChange& c : r.changes) {
      const auto run = std::find_if(r.groups.begin(), r.groups.end(), [&](const ComparisonGroup& g) {
        return c.key == fmt::format("init ({})", g.run);
      });
      if (run == r.groups.end()) continue;
      const bool failed = std::any_of(r.groups.begin(), r.groups.end(), [&](const ComparisonGroup& g) {
        return g.run == run->run && !g.mismatches.empty();
      });
      out += fmt::format("init changed ({}): the weights were drawn with {} when recorded, {} now{}\n",
                         printable_line(run->run), printable_line(num(c.baseline)),
                         printable_line(num(c.now)),
                         !failed ? "" : r.update ? ": the metrics cannot match (the baseline is rewritten with the new draw)"
                                                 : ": the metrics cannot match; record the baseline again "
                                                   "(check --baseline FILE --update)");
    }
  }

  if (r.baseline) {
    std::size_t values = 0, bad = 0, bad_groups = 0;
    for (const ComparisonGroup& g : r.groups) {
      values += g.compared;
      bad += g.mismatches.size();
      bad_groups += !g.mismatches.empty();
    }
    const std::string tol = fmt::format("atol {:g}, rtol {:g}, {:g} counts{}", r.tol.atol, r.tol.rtol, r.tol.count_slack,
                                        r.tol.atol_for.empty() && r.tol.rtol_for.empty() ? "" : ", with per-metric overrides");
    if (bad == 0) {
      out += fmt::format("PASS  baseline: all {} values of {} metrics match ({})\n", values, r.groups.size(), tol);
    } else {
      out += fmt::format("{}  baseline: {} of {} values, in {} of {} metrics, outside tolerance ({})\n",
                         r.update ? "DIFF" : "FAIL", bad, values, bad_groups, r.groups.size(), tol);
      std::size_t shown = 0, total = 0;
      out += mismatch_table(r, max_rows, shown, total).render("  ");
      out += fmt::format("  (one row per metric, at its worst layer; --format json lists every value){}\n",
                         shown < total ? fmt::format("; {} more metrics not shown", total - shown) : "");
    }
    if (!r.runs_not_in_baseline.empty())
      out += fmt::format("  note: runs not in the baseline, so not compared: {}\n", printable_line(join(r.runs_not_in_baseline)));
    if (!r.not_in_baseline.empty())
      out += fmt::format("  note: not in the baseline, so not compared (new since it was recorded; --update "
                         "adds them): {}\n",
                         printable_line(join(r.not_in_baseline)));
    const ojson& ctx = r.baseline->doc.contains("context") ? r.baseline->doc["context"] : ojson::object();
    const ojson here = context_json(r.baseline->config.dtype);
    if (bad && ctx.value("simd", "") != here.value("simd", ""))
      out += fmt::format("  note: the baseline was recorded with SIMD \"{}\", this build uses \"{}\": float "
                         "rounding differs; see the README on tolerances\n",
                         ctx.value("simd", "?"), here.value("simd", "?"));
  }
  for (std::size_t k = 0; k < r.rules.size(); ++k) {
    const Rule& rule = r.rules[k];
    const RuleOutcome& res = r.outcomes[k];
    if (res.violations.empty()) {
      out += fmt::format("PASS  rule {} [{}]: {} value{}\n", printable_line(rule.text()), printable_line(rule.origin), res.checked,
                         res.checked == 1 ? "" : "s");
      continue;
    }
    out += fmt::format("FAIL  rule {} [{}]: {} of {} values violate it\n", printable_line(rule.text()), printable_line(rule.origin),
                       res.violations.size(), res.checked);
    out += violation_table(rule, res, max_rows).render("  ");
    if (res.violations.size() > max_rows)
      out += fmt::format("  ... and {} more (--format json lists every one)\n", res.violations.size() - max_rows);
  }
  const std::size_t failed = r.failed_groups() + r.failed_rules();
  if (r.update) {
    const std::size_t per_run = baseline_metrics_per_run();
    out += fmt::format("gradflow check: baseline rewritten: {}, {} run{}, {} metrics ({} per run)\n", printable_line(r.baseline->path),
                       r.runs, r.runs == 1 ? "" : "s", r.runs * per_run, per_run);
    if (r.checks() == 0) return out;  // nothing else was checked
  }
  out += failed ? fmt::format("gradflow check: FAILED: {} of {} checks\n", failed, r.checks())
                : fmt::format("gradflow check: passed: {} check{}\n", r.checks(), r.checks() == 1 ? "" : "s");
  return out;
}

}  // namespace

// The baseline's path, run names and layer names come from files: no control character of
// theirs reaches the terminal. Table cells escape theirs, newlines and tabs too, and check_lines
// each name it puts in a line (printable_line), so that a newline in a file's name cannot start a
// line of its own ("PASS ..."); printable here is the last guard.
std::string check_table(const CheckReport& r, std::size_t max_rows) { return printable(check_lines(r, max_rows)); }

std::string check_json(const CheckReport& r) {
  ojson doc = {{"schema_version", kSchemaVersion}, {"tool", "gradflow"}, {"command", "check"},
               {"passed", r.passed()}, {"checks", r.checks()},
               {"failed", r.failed_groups() + r.failed_rules()}, {"runs", r.runs}};
  if (r.baseline) {
    ojson groups = ojson::array();
    for (const ComparisonGroup& g : r.groups) {
      ojson mismatches = ojson::array();
      for (const Mismatch& m : g.mismatches)
      {
        mismatches.push_back({{"layer", m.layer ? ojson(m.layer) : ojson(nullptr)}, {"expected", m.expected},
                              {"got", m.got}, {"difference", number_or_null(m.difference)},
                              {"allowed", number_or_null(m.allowed)}});
        if (!m.name.empty()) mismatches.back()["name"] = m.name;  // --model: the layer's name in the file
      }
      groups.push_back({{"run", g.run}, {"scope", g.scope}, {"metric", g.metric}, {"compared", g.compared},
                        {"passed", g.mismatches.empty()}, {"mismatches", std::move(mismatches)}});
    }
    ojson atol_for = r.tol.atol_for, rtol_for = r.tol.rtol_for;
    ojson changes = ojson::array();
    for (const ConfigChange& c : r.changes)
      changes.push_back({{"key", c.key}, {"baseline", c.baseline}, {"now", c.now}, {"text", c.text()}});
    doc["baseline"] = {{"file", r.baseline->path}, {"mode", r.current.empty() ? "rerun" : "compare"},
                       {"current_config", r.current.empty() ? ojson(nullptr) : ojson(r.current)},
                       {"config_changes", std::move(changes)}, {"runs_not_in_baseline", r.runs_not_in_baseline},
                       {"updated", r.update}, {"atol", r.tol.atol},
                       {"rtol", r.tol.rtol}, {"count_slack", r.tol.count_slack}, {"metric_atol", atol_for}, {"metric_rtol", rtol_for},
                       {"not_in_baseline", r.not_in_baseline},
                       {"groups", std::move(groups)}};
  }
  ojson rules = ojson::array();
  for (std::size_t k = 0; k < r.rules.size(); ++k) {
    const Rule& rule = r.rules[k];
    ojson violations = ojson::array();
    for (const Violation& v : r.outcomes[k].violations) {
      violations.push_back({{"config", v.config}, {"activation", v.activation},
                            {rule.per_block ? "block" : "layer", v.layer ? ojson(v.layer) : ojson(nullptr)},
                            {"metric", rule.metric},
                            {"value", number_or_null(v.value)}, {"op", rule.op_text()},
                            {"bound", rule.bound}});
      if (!v.name.empty()) violations.back()["name"] = v.name;  // --model: the layer's name in the file
    }
    rules.push_back({{"rule", rule.text()}, {"origin", rule.origin}, {"metric", rule.metric},
                     {"op", rule.op_text()}, {"bound", rule.bound},
                     {"checked", r.outcomes[k].checked}, {"passed", violations.empty()},
                     {"violations", std::move(violations)}});
  }
  doc["rules"] = std::move(rules);
  return dump_json(doc, 2) + "\n";
}

std::string check_junit(const CheckReport& r) {
  std::vector<JUnitSuite> suites;
  if (r.baseline && !r.update) {
    JUnitSuite s{"baseline " + r.baseline->path + (r.current.empty() ? "" : " vs " + r.current), {}};
    std::string changed;
    for (const ConfigChange& c : r.changes) changed += "config changed: " + c.text() + "\n";
    for (const ComparisonGroup& g : r.groups) {
      JUnitCase c{"gradflow.baseline." + g.run, g.scope + "." + g.metric, !g.mismatches.empty(), "", ""};
      if (c.failed) {
        c.message = fmt::format("{} of {} values outside tolerance", g.mismatches.size(), g.compared);
        c.details = changed;
        for (const Mismatch& m : g.mismatches)
          c.details += fmt::format("{} {}: expected {}, got {}, difference {}, allowed {}\n",
                                   g.scope == "blocks" ? "block" : "layer",
                                   g.scope == "layers" ? layer_text(m.layer, m.name) : layer_text(m.layer),
                                   num(m.expected), num(m.got), num(m.difference, "{:+.3g}"),
                                   num(m.allowed, "{:.2g}"));
      }
      s.cases.push_back(std::move(c));
    }
    suites.push_back(std::move(s));
  }
  if (!r.rules.empty()) {
    JUnitSuite s{"rules", {}};
    for (std::size_t k = 0; k < r.rules.size(); ++k) {
      const Rule& rule = r.rules[k];
      const RuleOutcome& res = r.outcomes[k];
      JUnitCase c{"gradflow.rules", rule.text(), !res.violations.empty(), "", ""};
      if (c.failed) {
        c.message = fmt::format("{} of {} values violate {}", res.violations.size(), res.checked, rule.text());
        for (const Violation& v : res.violations)
          c.details += fmt::format("config {}, activation {}, {} {}: {} = {}, bound {}\n", v.config, v.activation,
                                   rule.per_block ? "block" : "layer", rule.per_block ? layer_text(v.layer) : layer_text(v), rule.metric, num(v.value),
                                   rule.bound_text());
      }
      s.cases.push_back(std::move(c));
    }
    suites.push_back(std::move(s));
  }
  return junit_xml(suites);
}

}  // namespace gf
