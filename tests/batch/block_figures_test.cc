// Residual nets' block figures (metrics.h's block_metrics) beyond analyze's JSON: on CSV rows
// (analyze --format csv, sweep records), in JSON-lines records, in `check` rules (per block, and
// the stream gradient's spread per run) and in baselines. Each against the run's own BlockStats
// or a value recomputed from them here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/real_text.h"
#include "batch/rules.h"
#include "batch/run_record.h"
#include "core/metrics.h"
#include "process.h"
#include "report/report_csv.h"
#include "residual_config.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(s);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  return split(s, '\n');
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

// Checks every layer row of a CSV against the run's blocks: the block holding the layer, its
// figures as csv_number writes them, empty cells outside any block.
void check_block_cells(const std::string& csv, const RunResult& r, const char* layer_col,
                       const char* prefix) {
  const std::vector<std::string> rows = lines_of(csv);
  const std::vector<std::string> header = split(rows.at(0), ',');
  std::size_t seen_in_block = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].empty()) continue;
    const std::vector<std::string> cells = split(rows[i], ',');
    REQUIRE(cells.size() == header.size());
    const Index layer = std::stol(cells[column(header, layer_col)]);
    const BlockStats* b = nullptr;
    for (const BlockStats& x : r.pass.blocks)
      if (layer >= x.first_layer && layer <= x.last_layer) b = &x;
    CAPTURE(layer);
    CHECK(cells[column(header, std::string(prefix) + "block")] ==
          (b ? std::to_string(b->block) : ""));
    CHECK(cells[column(header, std::string(prefix) + "block_stream_rms")] ==
          (b ? csv_number(b->stream_rms) : ""));
    CHECK(cells[column(header, std::string(prefix) + "block_grad_stream_log10")] ==
          (b ? csv_number(b->grad_stream_log10) : ""));
    CHECK(cells[column(header, std::string(prefix) + "block_branch_ratio")] ==
          (b ? csv_number(b->branch_ratio) : ""));
    seen_in_block += b != nullptr;
  }
  CHECK(seen_in_block == 6);  // 3 blocks of 2 layers, after the input projection
}

}  // namespace

TEST_CASE(
    "block figures on CSV rows: analyze --format csv and sweep's records, from the run's "
    "BlockStats") {
  AnalysisConfig c = test::residual_config("tanh", 6, 2, 16);
  c.input_dim = 8;  // a projection first: layer 1 is outside every block
  const RunResult r = run_one(c, *find_activation("tanh"));
  REQUIRE(r.pass.blocks.size() == 3);
  AnalysisResult a{c, {r}};
  check_block_cells(analysis_csv(a), r, "layer", "");
  RecordColumns columns;
  columns.layers = true;
  columns.blocks = true;
  const std::string rec = record_csv_header(columns) + record_csv(c, r, columns);
  check_block_cells(rec, r, "layer", "");
  // JSON lines: the blocks of analyze's JSON, whole.
  const nlohmann::json line = nlohmann::json::parse(record_jsonl(c, r, false));
  REQUIRE(line["blocks"].size() == 3);
  for (std::size_t k = 0; k < 3; ++k)
    for (const BlockMetric& m : block_metrics())
      CHECK(line["blocks"][k][std::string(m.key)].get<double>() ==
            doctest::Approx(r.pass.blocks[k].*m.field).epsilon(1e-15));
  // A plain stack's CSV and records have no block columns: unchanged.
  AnalysisConfig plain = c;
  plain.residual = 0;
  const RunResult p = run_one(plain, *find_activation("tanh"));
  CHECK(lines_of(analysis_csv({plain, {p}})).at(0).find("block") == std::string::npos);
  RecordColumns plain_columns;
  plain_columns.layers = true;
  CHECK(record_csv_header(plain_columns).find("block") == std::string::npos);
  CHECK(!nlohmann::json::parse(record_jsonl(plain, p, false)).contains("blocks"));
}

TEST_CASE("check rules on block figures: per block, and the stream gradient's spread per run") {
  // ReZero at init: every block the identity, so the stream gradient is the same at every block
  // (spread 0 to rounding); alpha 1 tanh blocks: it grows towards the input.
  const RunResult rezero =
      run_one(test::residual_config("tanh", 8, 2, 32, "0"), *find_activation("tanh"));
  const RunResult one =
      run_one(test::residual_config("tanh", 8, 2, 32, "1"), *find_activation("tanh"));
  auto spread = [](const RunResult& r) {  // recomputed here from the blocks
    double lo = 1e300, hi = -1e300;
    for (const BlockStats& b : r.pass.blocks)
      lo = std::min(lo, b.grad_stream_log10), hi = std::max(hi, b.grad_stream_log10);
    return hi - lo;
  };
  MESSAGE("stream gradient spread: ReZero ", spread(rezero), " decades, alpha 1 ", spread(one));
  REQUIRE(spread(rezero) < 1e-12);
  REQUIRE(spread(one) > 0.05);
  const Rule s = parse_rule("grad_stream_spread_log10 <= 0.02", "--rule");
  CHECK(!s.per_layer);
  CHECK(!s.per_block);
  const RuleOutcome ok = evaluate_rule(s, {{"rezero", &rezero}});
  CHECK(ok.checked == 1);
  CHECK(ok.violations.empty());
  const RuleOutcome bad = evaluate_rule(s, {{"rezero", &rezero}, {"alpha1", &one}});
  CHECK(bad.checked == 2);
  REQUIRE(bad.violations.size() == 1);
  CHECK(bad.violations[0].config == "alpha1");
  CHECK(bad.violations[0].value == doctest::Approx(spread(one)).epsilon(1e-12));

  // Per block: branch_ratio is 0 for ReZero and positive for alpha 1, on every block in range.
  const Rule b = parse_rule("branch_ratio <= 1e-9 blocks=2:3", "--rule");
  CHECK(b.per_block);
  CHECK(b.text() == "branch_ratio <= 1e-09 (blocks 2..3)");
  CHECK(evaluate_rule(b, {{"rezero", &rezero}}).violations.empty());
  const RuleOutcome v = evaluate_rule(b, {{"alpha1", &one}});
  CHECK(v.checked == 2);
  REQUIRE(v.violations.size() == 2);
  CHECK(v.violations[0].layer == 2);
  CHECK(v.violations[0].value == one.pass.blocks[1].branch_ratio);
  const Rule j =
      parse_rule(R"({"metric": "stream_rms", "op": "<", "bound": 100, "blocks": "1:"})", "--rule");
  CHECK(j.per_block);
  CHECK(evaluate_rule(j, {{"alpha1", &one}}).checked == 4);

  // A plain stack has no blocks: the rule checks nothing, and says so.
  const RunResult plain =
      run_one(test::residual_config("tanh", 8, 0, 32), *find_activation("tanh"));
  CHECK(error_of([&] {
          evaluate_rule(s, {{"plain", &plain}});
        }).find("no run of tanh has residual blocks") != std::string::npos);
  CHECK(error_of([] { parse_rule("branch_ratio <= 1 layers=2", "--rule"); }).find("blocks=A:B") !=
        std::string::npos);
  CHECK(error_of([] {
          parse_rule("dead_units_frac <= 1 blocks=2", "--rule");
        }).find("blocks= is for") != std::string::npos);
  CHECK(error_of([] {
          parse_rule("branch_ratio <= 1 blocks=3:2", "--rule");
        }).find("blocks '3:2'") != std::string::npos);
}

TEST_CASE(
    "check --baseline compares block figures: a recorded residual run holds, a changed block value "
    "fails") {
  const std::string dir = test::temp_dir(), base = dir + "/base.json";
  const std::vector<std::string> net = {"-a", "tanh", "-d", "6",          "-w",
                                        "16", "-b",   "8",  "--residual", "2"};
  std::vector<std::string> a = {"analyze", "--format", "json", "-o", base};
  a.insert(a.end(), net.begin(), net.end());
  REQUIRE(test::run_gradflow(a).exit_code == 0);
  const auto same = test::run_gradflow({"check", "--baseline", base, "--format", "json"});
  CAPTURE(same.err);
  REQUIRE(same.exit_code == 0);
  const nlohmann::json ok = nlohmann::json::parse(same.out);
  std::size_t block_groups = 0;
  for (const auto& g : ok["baseline"]["groups"])
    if (g["scope"] == "blocks") {
      ++block_groups;
      CHECK(g["compared"] == 3);
    }
  CHECK(block_groups == block_metrics().size());
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(test::read_file(base));
  const double rms = doc["runs"][0]["blocks"][1]["stream_rms"].get<double>();
  doc["runs"][0]["blocks"][1]["stream_rms"] = rms * 1.01;
  test::write_file(base, doc.dump(2));
  const auto changed = test::run_gradflow({"check", "--baseline", base});
  CHECK(changed.exit_code == 1);
  CHECK(changed.out.find("block 2") != std::string::npos);
  CHECK(changed.out.find("stream_rms") != std::string::npos);
}
