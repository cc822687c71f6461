// CSV through the real binary, read back by an RFC 4180 reader written here: every row has the
// header's number of fields, and text cells read back as the JSON's values, when an init label
// ("auto (per layer: ..., ...)" for a mixed-activation net) or a file name holds commas, quotes
// or a line break. Sweep's records stay one line each, so --resume still reads them.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;
using json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";
const char* const kMixed = R"({"layers": [{"width": 12, "activation": "tanh"}, {"width": 10, "activation": "relu"}]})";

// RFC 4180: records of fields; a quoted field may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    std::string& field = rows.back().back();
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (ch == '"') quoted = false;
      else field += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      rows.back().emplace_back();
    } else if (ch == '\n') {
      rows.emplace_back(1);
    } else {
      field += ch;
    }
  }
  REQUIRE_FALSE(quoted);
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();  // the last line's newline
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

std::string ok(const std::vector<std::string>& args) {
  const ProcessResult r = run_gradflow(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

void check_rectangular(const std::vector<std::vector<std::string>>& rows) {
  REQUIRE(rows.size() >= 2);
  for (const auto& row : rows) CHECK(row.size() == rows[0].size());
}

}  // namespace

TEST_CASE("analyze and sweep CSV: a mixed net's per-layer init label is one quoted field") {
  const std::string d = temp_dir();
  write_file(d + "/mixed.json", kMixed);
  const std::vector<std::string> net = {"--arch", d + "/mixed.json", "-b", "8"};
  std::vector<std::string> a = {"analyze", "--format", "json"};
  a.insert(a.end(), net.begin(), net.end());
  const std::string init = json::parse(ok(a))["runs"][0]["init"].get<std::string>();
  REQUIRE(init.find(',') != std::string::npos);  // the case under test

  a[2] = "csv";
  const auto rows = read_csv(ok(a));
  check_rectangular(rows);
  for (std::size_t k = 1; k < rows.size(); ++k) CHECK(rows[k][column(rows[0], "init")] == init);

  for (const bool layers : {false, true}) {
    std::vector<std::string> s = {"sweep", "--format", "csv", "-q"};
    s.insert(s.end(), net.begin(), net.end());
    if (layers) s.push_back("--layers");
    const auto recs = read_csv(ok(s));
    check_rectangular(recs);
    for (std::size_t k = 1; k < recs.size(); ++k) CHECK(recs[k][column(recs[0], "resolved_init")] == init);
  }
}

TEST_CASE("sweep CSV: file names with commas and quotes read back exactly; a line break stays on the record's line") {
  const std::string d = temp_dir();
  const std::string model = d + "/my,\"quoted\".onnx", data = d + "/b,1.csv";
  write_file(model, read_file(kFixtures + "mlp.onnx"));
  write_file(data, read_file(kFixtures + "batch.csv"));
  const auto rows = read_csv(ok({"sweep", "--model", model, "--data", data, "--label-col", "y", "-b", "8", "--format",
                                 "csv", "-q", "--layers"}));
  check_rectangular(rows);
  for (std::size_t k = 1; k < rows.size(); ++k) {
    CHECK(rows[k][column(rows[0], "model")] == model);
    CHECK(rows[k][column(rows[0], "data")] == data);
  }

  const std::string broken = d + "/two\nlines.onnx", out = d + "/runs.csv";
  write_file(broken, read_file(kFixtures + "mlp.onnx"));
  const std::vector<std::string> sweep = {"sweep", "--model", broken, "-b", "8", "--format", "csv", "-q", "-o", out};
  ok(sweep);
  const std::string text = read_file(out);
  const auto recs = read_csv(text);
  REQUIRE(recs.size() == 2);  // the header and one record, each one line
  CHECK(recs[1][column(recs[0], "model")] == d + "/two\\nlines.onnx");
  std::vector<std::string> resume = sweep;
  resume.push_back("--resume");
  ok(resume);  // reads its own records back: nothing left to run
  CHECK(read_file(out) == text);
}
