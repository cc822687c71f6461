// --jacobian through the real binary: every output carries the declared figures (and only with
// the flag), sweep records and check rules read them, and misuse is a usage error (exit 2).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <algorithm>
#include <string_view>
#include <nlohmann/json.hpp>

#include "process.h"
#include "core/jacobian_stats.h"

using namespace gf;
using namespace gf::test;

TEST_CASE("analyze --jacobian: JSON, CSV and table carry the declared figures; without it, none") {
  const std::vector<std::string> net = {"analyze", "-a", "identity,tanh", "--init", "orthogonal", "-d", "6",
                                        "-w", "32", "-b", "16", "--dtype", "f64"};
  auto with = [&](const std::vector<std::string>& extra) { return run_gradflow(concat(net, extra)); };
  const ProcessResult json = with({"--jacobian", "--jacobian-samples", "2", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["config"]["jacobian-samples"] == 2);
  const auto& jac = doc["runs"][0]["jacobian"];
  for (const JacobianMetric& m : jacobian_metrics()) CHECK(jac.contains(std::string(m.key)));
  CHECK(jac["jac_isometry"].get<double>() == doctest::Approx(1).epsilon(1e-12));  // linear orthogonal
  CHECK(jac["jac_s2_mean"].get<double>() == doctest::Approx(1).epsilon(1e-12));

  const ProcessResult plain = with({"--format", "json"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out.find("jac_") == std::string::npos);
  CHECK(plain.out.find("\"jacobian") == std::string::npos);

  const ProcessResult csv = with({"--jacobian", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.substr(0, csv.out.find('\n')).find(",jac_s2_mean,") != std::string::npos);
  const ProcessResult table = with({"--jacobian"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Jacobian d a_L / d x (4 samples)") != std::string::npos);
  CHECK(table.out.find("isometry") != std::string::npos);
}

TEST_CASE("sweep and check read --jacobian's figures; misuse names the flag") {
  const std::string dir = temp_dir();
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh", "-d", "2:4:2", "-w", "16", "-b", "8", "--jacobian",
                                            "--format", "csv", "-o", dir + "/r.csv", "-q"});
  REQUIRE(sweep.exit_code == 0);
  const std::string text = read_file(dir + "/r.csv");
  CHECK(text.substr(0, text.find('\n')).find(",verdict,jac_s2_mean,") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);

  const std::vector<std::string> check = {"check", "-a", "identity", "--init", "orthogonal", "-d", "8", "-w", "16",
                                          "-b", "8", "--rule", "jac_isometry > 0.99"};
  std::vector<std::string> with_flag = check;
  with_flag.push_back("--jacobian");
  CHECK(run_gradflow(with_flag).exit_code == 0);
  // tanh with its auto init (xavier_normal) is no isometry: the rule fails, exit 1
  const std::vector<std::string> failing = {"check", "-a", "tanh", "-d", "8", "-w", "16", "-b", "8",
                                            "--rule", "jac_isometry > 0.99", "--jacobian"};
  CHECK(run_gradflow(failing).exit_code == 1);
  const ProcessResult without = run_gradflow(check);
  CHECK(without.exit_code == 2);
  CHECK(without.err.find("jac_isometry is measured only with --jacobian") != std::string::npos);

  const ProcessResult many = run_gradflow({"analyze", "-a", "tanh", "-b", "8", "--jacobian", "--jacobian-samples", "9"});
  CHECK(many.exit_code == 2);
  CHECK(many.err.find("--jacobian-samples 9 is more than --batch 8") != std::string::npos);
  const ProcessResult seeds = run_gradflow({"analyze", "-a", "tanh", "-b", "8", "--jacobian", "--seed", "0:2"});
  CHECK(seeds.exit_code == 2);
  CHECK(seeds.err.find("--jacobian shows one network") != std::string::npos);
  const ProcessResult train = run_gradflow({"train", "--jacobian"});
  CHECK(train.exit_code == 2);
}

TEST_CASE("--jacobian-depths: JSON records per l (l = 0 the full J's), the table's rows, sweep records; misuse "
          "exits 2 naming the flag") {
  const std::vector<std::string> net = {"analyze", "-a", "tanh", "-d", "8", "-w", "24", "-b", "8", "--dtype", "f64",
                                        "--jacobian", "--jacobian-depths", "4,0,7"};
  auto with = [&](const std::vector<std::string>& extra) { return run_gradflow(concat(net, extra)); };
  const ProcessResult json = with({"--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["config"]["jacobian-depths"] == nlohmann::json::array({4, 0, 7}));
  const auto& run = doc["runs"][0];
  const auto& partials = run["jacobian_partials"];
  REQUIRE(partials.size() == 3);
  CHECK(partials[0]["layer"] == 4);
  for (const JacobianMetric& m : jacobian_metrics()) CHECK(partials[1][std::string(m.key)] == run["jacobian"][std::string(m.key)]);
  // one layer left: d a_8 / d a_7 = diag(phi') W, a 24 x 24 factor that spreads less than 8 of them
  CHECK(partials[2]["jac_s2_var_rel"].get<double>() < partials[0]["jac_s2_var_rel"].get<double>());
  CHECK(partials[0]["jac_s2_var_rel"].get<double>() < partials[1]["jac_s2_var_rel"].get<double>());

  const ProcessResult table = with({});
  REQUIRE(table.exit_code == 0);
  for (int i = 0; i < 3; ++i) {
    const int l = partials[i]["layer"].get<int>();
    const std::string line = fmt::format("{:<22}{:>12}", fmt::format("var/mean^2 from l={}", l),
                                         fmt::format("{:.4g}", partials[i]["jac_s2_var_rel"].get<double>()));
    CHECK_MESSAGE(table.out.find(line) != std::string::npos, line);
  }

  const std::string dir = temp_dir();
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh", "-d", "4:6:2", "-w", "16", "-b", "8", "--jacobian",
                                            "--jacobian-depths", "2", "-o", dir + "/r.jsonl", "-q"});
  REQUIRE(sweep.exit_code == 0);
  const std::string records = read_file(dir + "/r.jsonl");
  CHECK(std::count(records.begin(), records.end(), '\n') == 2);
  CHECK(nlohmann::json::parse(records.substr(0, records.find('\n')))["jacobian_partials"][0]["layer"] == 2);
  // In a sweep a comma list is an axis (one partial per run); brackets give every run the list.
  const ProcessResult both = run_gradflow({"sweep", "-a", "tanh", "-d", "4", "-w", "16", "-b", "8", "--jacobian",
                                           "--jacobian-depths", "[0,2]", "-q"});
  REQUIRE(both.exit_code == 0);
  const auto rec = nlohmann::json::parse(both.out.substr(0, both.out.find('\n')));
  CHECK(std::count(both.out.begin(), both.out.end(), '\n') == 1);
  CHECK(rec["jacobian_partials"].size() == 2);
  CHECK(rec["config"]["jacobian-depths"] == nlohmann::json::array({0, 2}));

  for (const auto& [value, message] :
       {std::pair{"8", "--jacobian-depths: 8 is not below the network's 8 layers"},
        std::pair{"2,2", "--jacobian-depths: 2 is given twice"}, std::pair{"-1", "--jacobian-depths"},
        std::pair{"a", "--jacobian-depths"}}) {
    CAPTURE(value);
    const ProcessResult bad =
        run_gradflow({"analyze", "-a", "tanh", "-d", "8", "-w", "16", "-b", "8", "--jacobian", "--jacobian-depths", value});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(message) != std::string::npos);
    CHECK(bad.out.empty());
  }
  const ProcessResult inside = run_gradflow({"analyze", "-a", "tanh", "-d", "8", "-w", "16", "-b", "8", "--residual",
                                             "2", "--jacobian", "--jacobian-depths", "3"});
  CHECK(inside.exit_code == 2);
  CHECK(inside.err.find("layer 3 is inside a residual block") != std::string::npos);
}

TEST_CASE("--jacobian-probes: labelled an estimate with its standard errors in JSON, CSV and table; --help states "
          "cost and accuracy; K below 3 exits 2 naming the flag") {
  const std::vector<std::string> net = {"analyze", "-a", "tanh", "-d", "6", "-w", "48", "-b", "8",
                                        "--jacobian", "--jacobian-probes", "16"};
  auto with = [&](const std::vector<std::string>& extra) { return run_gradflow(concat(net, extra)); };
  const ProcessResult json = with({"--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["config"]["jacobian-probes"] == 16);
  const auto& jac = doc["runs"][0]["jacobian"];
  CHECK(jac["jac_probes"] == 16);
  CHECK(jac["jac_s2_mean_rel_se"].get<double>() > 0);
  CHECK(jac["jac_s2_var_rel_se"].get<double>() > 0);
  CHECK(jac["jac_isometry"].is_null());
  CHECK(jac["jac_s_max_log10"].is_null());

  const ProcessResult csv = with({"--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.substr(0, csv.out.find('\n')).find(",jac_probes,jac_s2_mean_rel_se,jac_s2_var_rel_se") !=
        std::string::npos);
  const ProcessResult table = with({});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Jacobian d a_L / d x (4 samples), ESTIMATED from 16 random probes each") != std::string::npos);
  CHECK(table.out.find("  s.e. (rel)") != std::string::npos);
  // exact runs keep their table: no standard-error rows
  const ProcessResult exact = run_gradflow({"analyze", "-a", "tanh", "-d", "6", "-w", "48", "-b", "8", "--jacobian"});
  REQUIRE(exact.exit_code == 0);
  CHECK(exact.out.find("s.e.") == std::string::npos);
  CHECK(exact.out.find("ESTIMATED") == std::string::npos);

  const ProcessResult help = run_gradflow({"analyze", "--help"});
  CHECK(help.out.find("O(L n^2 K)") != std::string::npos);
  CHECK(help.out.find("standard error") != std::string::npos);
  for (const char* k : {"1", "2"}) {
    const ProcessResult bad =
        run_gradflow({"analyze", "-a", "tanh", "-d", "6", "-w", "48", "-b", "8", "--jacobian", "--jacobian-probes", k});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(fmt::format("--jacobian-probes {}", k)) != std::string::npos);
  }
  const ProcessResult spectrum = with({"--plot-spectrum", temp_dir() + "/s.svg"});
  CHECK(spectrum.exit_code == 2);
  CHECK(spectrum.err.find("--jacobian-probes") != std::string::npos);
}

namespace {

// A CSV line's cells (gradflow writes no quoted cells: names and numbers only).
std::vector<std::string> csv_cells(std::string_view line) {
  std::vector<std::string> out;
  for (std::size_t p = 0;;) {
    const std::size_t comma = line.find(',', p);
    out.emplace_back(line.substr(p, comma == std::string_view::npos ? std::string_view::npos : comma - p));
    if (comma == std::string_view::npos) return out;
    p = comma + 1;
  }
}

std::vector<std::string> csv_lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t p = 0; p < text.size();) {
    const std::size_t nl = text.find('\n', p);
    out.push_back(text.substr(p, nl - p));
    p = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE_MESSAGE(it != header.end(), name);
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

TEST_CASE("--jacobian-depths in CSV: analyze's columns jac_<figure>_from_<l> hold the JSON's partials; a sweep's "
          "header has every l of the grid, and a run without one leaves its cells empty") {
  const std::vector<std::string> net = {"analyze", "-a", "tanh,relu", "-d", "8", "-w", "24", "-b", "8", "--dtype", "f64",
                                        "--jacobian", "--jacobian-samples", "2", "--jacobian-depths", "4,0,7"};
  std::vector<std::string> as_json = net, as_csv = net;
  for (const char* a : {"--format", "json"}) as_json.push_back(a);
  for (const char* a : {"--format", "csv"}) as_csv.push_back(a);
  const ProcessResult json = run_gradflow(as_json), csv = run_gradflow(as_csv);
  REQUIRE(json.exit_code == 0);
  REQUIRE(csv.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  const std::vector<std::string> lines = csv_lines(csv.out);
  REQUIRE(lines.size() == 1 + 2 * 8);  // a header, then one row per (activation, layer)
  const std::vector<std::string> header = csv_cells(lines[0]);
  // J's figures, then each l's in the order given, each in jacobian_metrics()'s order
  std::vector<std::string> expected;
  for (const JacobianMetric& m : jacobian_metrics()) expected.emplace_back(m.key);
  for (const char* l : {"4", "0", "7"})
    for (const JacobianMetric& m : jacobian_metrics()) expected.push_back(fmt::format("{}_from_{}", m.key, l));
  const std::size_t first = column(header, "jac_s2_mean");
  REQUIRE(header.size() >= first + expected.size());
  CHECK(std::vector<std::string>(header.begin() + static_cast<std::ptrdiff_t>(first),
                                 header.begin() + static_cast<std::ptrdiff_t>(first + expected.size())) == expected);
  std::size_t compared = 0;
  for (std::size_t row = 1; row < lines.size(); ++row) {
    const std::vector<std::string> cells = csv_cells(lines[row]);
    REQUIRE(cells.size() == header.size());
    const auto& run = doc["runs"][row <= 8 ? 0 : 1];
    CHECK(cells[0] == run["activation"].get<std::string>());
    for (const auto& p : run["jacobian_partials"])
      for (const JacobianMetric& m : jacobian_metrics()) {
        const std::string& cell = cells[column(header, fmt::format("{}_from_{}", m.key, p["layer"].get<int>()))];
        const auto& v = p[std::string(m.key)];
        CAPTURE(m.key);
        if (v.is_null()) {
          CHECK(cell.empty());
        } else {
          CHECK(std::stod(cell) == doctest::Approx(v.get<double>()).epsilon(1e-12));
          ++compared;
        }
      }
  }
  CHECK(compared > 16 * 3 * 6);  // most figures are defined (relu's isometry is 0, not null)

  // A sweep over --jacobian-depths 1,3 (an axis: one l per run) at depths 4 and 6: the header has
  // both l, each run's row fills its own and leaves the other empty.
  const std::string dir = temp_dir();
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh", "-d", "4,6", "-w", "16", "-b", "8", "--jacobian",
                                            "--jacobian-samples", "2", "--jacobian-depths", "3,1", "--format", "csv",
                                            "-o", dir + "/r.csv", "-q"});
  REQUIRE(sweep.exit_code == 0);
  const std::vector<std::string> rec = csv_lines(read_file(dir + "/r.csv"));
  REQUIRE(rec.size() == 5);
  const std::vector<std::string> h = csv_cells(rec[0]);
  CHECK(column(h, "jac_s2_var_rel_from_1") < column(h, "jac_s2_var_rel_from_3"));  // ascending l
  CHECK(column(h, "jacobian-depths") < column(h, "resolved_init"));  // the config's own key, in place
  std::size_t with_1 = 0, with_3 = 0;
  for (std::size_t row = 1; row < rec.size(); ++row) {
    const std::vector<std::string> cells = csv_cells(rec[row]);
    REQUIRE(cells.size() == h.size());  // no row shifted by config keys the header lacks
    CHECK(cells[column(h, "jacobian")] == "true");
    CHECK(cells[column(h, "resolved_init")] == "xavier_normal");
    const std::string depths = cells[column(h, "jacobian-depths")];
    CHECK((depths == "1" || depths == "3"));
    const bool one = depths == "1";
    with_1 += one;
    with_3 += !one;
    for (const JacobianMetric& m : jacobian_metrics()) {
      CAPTURE(m.key);
      if (std::string_view(m.key).ends_with("_rel_se")) continue;  // an estimate's errors: empty for the exact J
      const std::string mine = cells[column(h, fmt::format("{}_from_{}", m.key, one ? 1 : 3))];
      const std::string other = cells[column(h, fmt::format("{}_from_{}", m.key, one ? 3 : 1))];
      CHECK(!mine.empty());
      CHECK(other.empty());
    }
    // fewer layers spanned, less spread: d a_L / d a_3 spans L - 3 layers, J spans L
    CHECK(std::stod(cells[column(h, fmt::format("jac_s2_var_rel_from_{}", one ? 1 : 3))]) <
          std::stod(cells[column(h, "jac_s2_var_rel")]));
  }
  CHECK(with_1 == 2);
  CHECK(with_3 == 2);
}
