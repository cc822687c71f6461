// Hostile file names through the real binary. sweep's and check's --model, --data and --arch take
// lists, and a legal name holds commas, brackets and colons: a value naming an existing file is
// that file, a list writes a name's comma twice, and what stays ambiguous is refused (exit 2).
// Names with Unicode's bidirectional controls are escaped on the terminal (tables, --dry-run,
// messages) and exact in JSON and CSV; a newline in a file's name cannot start a report line.
// Expected numbers come from `analyze --model` on the same file, a separate command.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>
#include <sstream>

#include "process.h"

using namespace gf::test;
using json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";
const std::string kRLO = "\xE2\x80\xAE";  // U+202E RIGHT-TO-LEFT OVERRIDE
const std::string kLRI = "\xE2\x81\xA6";  // U+2066 LEFT-TO-RIGHT ISOLATE

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// No byte sequence of `text` is a bidi control (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F,
// U+061C), an ESC or a tab.
bool no_hidden_controls(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0; };
    if (b(0) == 0x1b || b(0) == '\t') return false;
    if (b(0) == 0xD8 && b(1) == 0x9C) return false;
    if (b(0) == 0xE2 && b(1) == 0x80 && ((b(2) >= 0xAA && b(2) <= 0xAE) || b(2) == 0x8E || b(2) == 0x8F)) return false;
    if (b(0) == 0xE2 && b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9) return false;
  }
  return true;
}

json analyze_summary(const std::string& model, const ProcessOptions& o = {}) {
  const ProcessResult r = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "json"}, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json summary = json::parse(r.out)["runs"][0]["summary"];
  summary.erase("notes");  // they name the file: the numbers and sentences must agree
  return summary;
}

// The JSONL records of a sweep that must succeed.
std::vector<json> sweep_records(const std::vector<std::string>& args, const ProcessOptions& o = {}) {
  std::vector<std::string> a = {"sweep"};
  a.insert(a.end(), args.begin(), args.end());
  for (const char* extra : {"-b", "8", "-q"}) a.push_back(extra);
  const ProcessResult r = run_gradflow(a, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<json> out;
  for (const std::string& line : lines_of(r.out)) {
    out.push_back(json::parse(line));
    out.back()["summary"].erase("notes");  // as analyze_summary
  }
  return out;
}

// mlp.onnx with its first initializer renamed to `name`, written to `path`.
void write_renamed(const std::string& path, const std::string& name) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(kFixtures + "mlp.onnx")));
  onnx::GraphProto* g = m.mutable_graph();
  const std::string old = g->initializer(0).name();
  g->mutable_initializer(0)->set_name(name);
  for (onnx::NodeProto& n : *g->mutable_node())
    for (int i = 0; i < n.input_size(); ++i)
      if (n.input(i) == old) n.set_input(i, name);
  write_file(path, m.SerializeAsString());
}


// JSON and CSV are data: the model's file name and its layer's name come out as they are.
void check_names_exact_in_data(const std::string& model, const std::string& layer) {
  const ProcessResult j = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "json"});
  REQUIRE(j.exit_code == 0);
  const json doc = json::parse(j.out);
  CHECK(doc["config"]["model"] == model);
  CHECK(doc["runs"][0]["layers"][0]["name"] == layer);
  const ProcessResult csv = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.find("\n" + model + ",") != std::string::npos);
  CHECK(csv.out.find("," + layer + ",6,16,") != std::string::npos);
}

}  // namespace

TEST_CASE("sweep and check: a --model or --data file whose name holds a comma, a bracket or a colon is that one file") {
  const std::string d = temp_dir();
  const std::vector<std::string> names = {"my,model.onnx", "run]1.onnx", "x:[2].onnx", "a,b,c.onnx"};
  for (const std::string& n : names) write_file(d + "/" + n, read_file(kFixtures + "mlp.onnx"));
  write_file(d + "/b,1.csv", read_file(kFixtures + "batch.csv"));
  const json expected = analyze_summary(kFixtures + "mlp.onnx");
  for (const std::string& n : names) {
    CAPTURE(n);
    const std::string model = d + "/" + n;
    const std::vector<json> recs = sweep_records({"--model", model});
    REQUIRE(recs.size() == 1);
    CHECK(recs[0]["config"]["model"] == model);
    CHECK(recs[0]["summary"] == expected);
    // check runs it as one network: one run, named by the file.
    const ProcessResult c = run_gradflow({"check", "--model", model, "-b", "8", "--rule", "weight_log10 > -99",
                                          "--format", "json"});
    INFO(c.err);
    CHECK(c.exit_code == 0);
    CHECK(json::parse(c.out)["runs"] == 1);
  }
  // --arch the same (a file the flags cannot say: the config names it).
  const std::string arch = d + "/funnel,[1]:a.json";
  write_file(arch, read_file(std::string(GRADFLOW_SOURCE_DIR) + "/configs/arch/funnel.json"));
  const std::vector<json> archs = sweep_records({"--arch", arch});
  REQUIRE(archs.size() == 1);
  CHECK(archs[0]["config"]["arch"] == arch);
  // --data the same, and beside a second file in a list.
  const std::vector<json> data = sweep_records({"--model", kFixtures + "mlp.onnx", "--data", d + "/b,1.csv", "--label-col", "y"});
  REQUIRE(data.size() == 1);
  CHECK(data[0]["config"]["data"] == d + "/b,1.csv");
  const std::vector<json> two = sweep_records(
      {"--model", kFixtures + "mlp.onnx", "--data", d + "/b,,1.csv," + kFixtures + "batch.csv", "--label-col", "y"});
  REQUIRE(two.size() == 2);
  CHECK(two[0]["config"]["data"] == d + "/b,1.csv");
  CHECK(two[1]["config"]["data"] == kFixtures + "batch.csv");
  CHECK(two[0]["summary"] == two[1]["summary"]);  // the same rows
}

TEST_CASE("a list of files writes a name's comma twice; a value that is a file and a list of files is refused") {
  const std::string d = temp_dir();
  write_file(d + "/a.onnx", read_file(kFixtures + "mlp.onnx"));
  write_file(d + "/b.onnx", read_file(kFixtures + "mlp_smooth.onnx"));
  write_file(d + "/a.onnx,b.onnx", read_file(kFixtures + "tanh_stack.onnx"));
  ProcessOptions here;
  here.cwd = d;
  // "a.onnx,b.onnx" is a file, and a list of two files: running either would be a guess.
  for (const std::vector<std::string>& a : {std::vector<std::string>{"sweep", "--model", "a.onnx,b.onnx", "-b", "8"},
                                             {"check", "--model", "a.onnx,b.onnx", "-b", "8", "--rules", "default"}}) {
    CAPTURE(a[0]);
    const ProcessResult r = run_gradflow(a, here);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("gradflow: error: --model: 'a.onnx,b.onnx' is ambiguous: it names a file, and read as a list", 0) == 0);
    CHECK(r.err.find("'a.onnx', 'b.onnx'") != std::string::npos);
    CHECK(r.err.find("write each comma in it twice ('a.onnx,,b.onnx')") != std::string::npos);
  }
  // Each meaning, written as the message says.
  const std::vector<json> one = sweep_records({"--model", "a.onnx,,b.onnx"}, here);
  REQUIRE(one.size() == 1);
  CHECK(one[0]["config"]["model"] == "a.onnx,b.onnx");
  CHECK(one[0]["summary"] == analyze_summary(kFixtures + "tanh_stack.onnx"));
  const std::vector<json> list = sweep_records({"--model", "b.onnx,a.onnx"}, here);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["config"]["model"] == "b.onnx");
  CHECK(list[1]["config"]["model"] == "a.onnx");
  CHECK(list[0]["summary"] == analyze_summary(kFixtures + "mlp_smooth.onnx"));
  CHECK(list[1]["summary"] == analyze_summary(kFixtures + "mlp.onnx"));
  // A list with the comma of a name in it: the element that is no file, and how to write the name.
  write_file(d + "/my,model.onnx", read_file(kFixtures + "mlp.onnx"));
  const ProcessResult half = run_gradflow({"sweep", "--model", "a.onnx,my,model.onnx", "-q"}, here);
  CHECK(half.exit_code == 2);
  CHECK(half.err.find("--model: no file 'a.onnx,my,model.onnx'") != std::string::npos);
  CHECK(half.err.find("'my' names none either") != std::string::npos);
  CHECK(half.err.find("written twice: 'a.onnx,my,,model.onnx' is 'a.onnx', 'my,model.onnx'") != std::string::npos);
  const std::vector<json> mixed = sweep_records({"--model", "a.onnx,my,,model.onnx"}, here);
  REQUIRE(mixed.size() == 2);
  CHECK(mixed[1]["config"]["model"] == "my,model.onnx");
  // A file's name is never a range or a per-layer list.
  write_file(d + "/0:1", read_file(kFixtures + "mlp.onnx"));
  REQUIRE(sweep_records({"--model", "0:1,a.onnx"}, here).size() == 2);
  const ProcessResult odd = run_gradflow({"sweep", "--model", "a.onnx,,,b.onnx", "-q"}, here);
  CHECK(odd.exit_code == 2);
  CHECK(odd.err.find("--model: 'a.onnx,,,b.onnx' has 3 commas in a row") != std::string::npos);
}

TEST_CASE("--config: a string names files as on the command line, from the config's directory; an array's elements are one file each") {
  const std::string top = temp_dir();
  std::filesystem::create_directories(top + "/sub");
  write_file(top + "/sub/my,model.onnx", read_file(kFixtures + "mlp.onnx"));
  write_file(top + "/sub/t.onnx", read_file(kFixtures + "tanh_stack.onnx"));
  write_file(top + "/sub/s.json", R"({"model": "my,model.onnx", "batch": 8})");
  write_file(top + "/sub/a.json", R"({"model": ["t.onnx", "my,model.onnx"], "batch": 8})");
  write_file(top + "/sub/e.json", R"({"model": "t.onnx,my,,model.onnx", "batch": 8})");
  ProcessOptions o;
  o.cwd = top;
  const std::vector<json> s = sweep_records({"--config", "sub/s.json"}, o);
  REQUIRE(s.size() == 1);
  CHECK(s[0]["config"]["model"] == "sub/my,model.onnx");
  for (const char* config : {"sub/a.json", "sub/e.json"}) {
    CAPTURE(config);
    const std::vector<json> a = sweep_records({"--config", config}, o);
    REQUIRE(a.size() == 2);
    CHECK(a[0]["config"]["model"] == "sub/t.onnx");
    CHECK(a[1]["config"]["model"] == "sub/my,model.onnx");
    CHECK(a[1]["summary"] == analyze_summary(kFixtures + "mlp.onnx"));
  }
  // check reads its --config by the same rule.
  const ProcessResult c = run_gradflow({"check", "--config", "sub/s.json", "--rule", "weight_log10 > -99", "--format", "json"}, o);
  INFO(c.err);
  CHECK(c.exit_code == 0);
  // An element that is no file, named with the config file.
  write_file(top + "/sub/bad.json", R"({"model": "t.onnx,my,model.onnx"})");
  const ProcessResult bad = run_gradflow({"sweep", "--config", "sub/bad.json", "-q"}, o);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--config sub/bad.json: --model: no file 't.onnx,my,model.onnx'") != std::string::npos);
}

TEST_CASE("check --save-baseline of a model whose name holds a comma replays, alone and with network options") {
  const std::string d = temp_dir();
  const std::string model = d + "/my,model.onnx";
  write_file(model, read_file(kFixtures + "mlp.onnx"));
  const ProcessResult saved =
      run_gradflow({"check", "--model", model, "-b", "8", "--rules", "default", "--save-baseline", d + "/b.json"});
  INFO(saved.err);
  REQUIRE((saved.exit_code == 0 || saved.exit_code == 1));
  CHECK(json::parse(read_file(d + "/b.json"))["config"]["model"] == model);
  const ProcessResult replay = run_gradflow({"check", "--baseline", d + "/b.json"});
  INFO(replay.err);
  CHECK(replay.exit_code == 0);
  // With a network option: the recorded model becomes a grid value again, still one file.
  const ProcessResult with = run_gradflow({"check", "--baseline", d + "/b.json", "-b", "8"});
  INFO(with.err);
  CHECK(with.exit_code == 0);
  CHECK(with.out.find("config: as recorded in the baseline") != std::string::npos);
}

TEST_CASE("bidi controls in a model's file and layer names: escaped in tables, --dry-run and messages, exact in JSON and CSV") {
  const std::string d = temp_dir();
  const std::string model = d + "/evil" + kRLO + "gnp.onnx";  // shows as "evilxnno.png" on a bidi terminal
  const std::string layer = "0.w" + kLRI + "x";
  write_renamed(model, layer);
  const std::string shown_model = d + "/evil\\u202egnp.onnx";
  const std::string shown_layer = "0.w\\u2066x";

  const ProcessResult table = run_gradflow({"analyze", "--model", model, "-b", "8", "--color", "never"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(no_hidden_controls(table.out));
  CHECK(table.out.find("--model " + shown_model + ":") != std::string::npos);
  CHECK(table.out.find("    1 " + shown_layer + " ") != std::string::npos);
  const ProcessResult listed = run_gradflow({"list", "--model", model});
  REQUIRE(listed.exit_code == 0);
  CHECK(no_hidden_controls(listed.out));
  CHECK(listed.out.find(shown_model + ": 6 inputs") != std::string::npos);
  const ProcessResult checked = run_gradflow({"check", "--model", model, "-b", "8", "--rule", "weight_log10 < -9"});
  CHECK(checked.exit_code == 1);
  CHECK(no_hidden_controls(checked.out));
  CHECK(checked.out.find("1 (" + shown_layer + ")") != std::string::npos);

  // JSON and CSV are data: the names as they are.
  check_names_exact_in_data(model, layer);
  const std::vector<json> rec = sweep_records({"--model", model});
  REQUIRE(rec.size() == 1);
  CHECK(rec[0]["config"]["model"] == model);

  // sweep --dry-run's table: a value per column, escaped as in every table.
  const std::string tabbed = d + "/t\tab\x1b[31m" + kRLO + ".onnx";
  write_file(tabbed, read_file(kFixtures + "mlp.onnx"));
  const ProcessResult dry = run_gradflow({"sweep", "--model", tabbed + "," + model, "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  const std::vector<std::string> rows = lines_of(dry.out);
  REQUIRE(rows.size() == 3);
  for (const std::string& row : rows) {
    CAPTURE(row);
    CHECK(std::count(row.begin(), row.end(), '\t') == 2);  // run, run_id, model
    std::string cells = row;
    std::erase(cells, '\t');
    CHECK(no_hidden_controls(cells));
  }
  CHECK(rows[1].ends_with("\t" + d + "/t\\x09ab\\x1b[31m\\u202e.onnx"));
  CHECK(rows[2].ends_with("\t" + shown_model));

  // Messages: an error that quotes a file's name.
  const ProcessResult missing = run_gradflow({"analyze", "--model", d + "/none" + kLRI + "\x1b[2J.onnx"});
  CHECK(missing.exit_code == 2);
  CHECK(no_hidden_controls(missing.err));
  CHECK(missing.err.find(d + "/none\\u2066\\x1b[2J.onnx") != std::string::npos);
}

TEST_CASE("check: a newline in the baseline's or a model's file name cannot start a report line of its own") {
  const std::string d = temp_dir();
  const std::string baseline = d + "/b\nPASS  all is well.json";
  const ProcessResult saved = run_gradflow(
      {"check", "--model", kFixtures + "mlp.onnx", "-b", "8", "--rules", "default", "--save-baseline", baseline});
  INFO(saved.err);
  REQUIRE((saved.exit_code == 0 || saved.exit_code == 1));
  // Another model, named with a newline: the baseline's config changes by it.
  const std::string other = d + "/m\nPASS  fine.onnx";
  write_file(other, read_file(kFixtures + "mlp.onnx"));
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--model", other, "-b", "8"}}) {
    std::vector<std::string> a = {"check", "--baseline", baseline};
    a.insert(a.end(), extra.begin(), extra.end());
    const ProcessResult r = run_gradflow(a);
    INFO(r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    CHECK(r.out.find("baseline " + d + "/b\\x0aPASS  all is well.json") != std::string::npos);
    for (const std::string& line : lines_of(r.out)) {
      CAPTURE(line);
      CHECK(line.rfind("PASS  all", 0) != 0);
      CHECK(line.rfind("PASS  fine", 0) != 0);
    }
    if (!extra.empty()) CHECK(r.out.find(d + "/m\\x0aPASS  fine.onnx") != std::string::npos);  // the config change
  }
}

TEST_CASE("messages are one line: a newline, tab or U+2028 in a quoted file name or value is escaped") {
  const std::string d = temp_dir();
  const std::string kLS = "\xE2\x80\xA8";  // U+2028 LINE SEPARATOR
  // An error that quotes a file's name (a UsageError), and one that quotes a value CLI11's
  // validators refuse (its own message): each is one line, the forged second one inside it.
  const std::string none = d + "/none\ngradflow: error: forged\t" + kLS + ".onnx";
  const std::vector<std::vector<std::string>> cases = {
      {"analyze", "--model", none},
      {"check", "--baseline", d + "/b\nPASS  all is well.json"},
      {"analyze", "-a", "relu\ngradflow: error: forged"},
      {"analyze", "--dtype", "f32\tx"}};
  for (const std::vector<std::string>& a : cases) {
    CAPTURE(a.back());
    const ProcessResult r = run_gradflow(a);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("gradflow: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // the message's own end
    CHECK(r.err.back() == '\n');
    CHECK(r.err.find('\t') == std::string::npos);
  }
  const ProcessResult missing = run_gradflow({"analyze", "--model", none});
  CHECK(missing.err.find(d + "/none\\x0agradflow: error: forged\\x09\\u2028.onnx") != std::string::npos);
}

TEST_CASE("a warning that quotes a records file's name is one line (merge, summarize)") {
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh", "-d", "2", "-w", "4", "-b", "8", "-q"});
  INFO(sweep.err);
  REQUIRE(sweep.exit_code == 0);
  const std::string d = temp_dir();
  const std::string file = d + "/r\nPASS\t.jsonl";
  write_file(file, sweep.out + sweep.out.substr(0, 20));  // a torn last line: warned about, then ignored
  for (const char* command : {"merge", "summarize"}) {
    CAPTURE(command);
    const ProcessResult r = run_gradflow({command, file});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const std::vector<std::string> lines = lines_of(r.err);
    REQUIRE(lines.size() >= 1);
    CHECK(lines[0] == "gradflow: warning: " + d + "/r\\x0aPASS\\x09.jsonl:2: ignored a torn last line (20 bytes "
                      "without a newline): a sweep still running, or killed mid-write");
    CHECK(r.err.find('\t') == std::string::npos);
  }
}

TEST_CASE("zero-width characters and U+2028 in a model's file name: escaped in tables, exact in JSON") {
  const std::string d = temp_dir();
  const std::string model = d + "/m\xE2\x80\x8B" "lp\xEF\xBB\xBF" "\xE2\x80\xA8" ".onnx";  // ZWSP, BOM, LS
  write_file(model, read_file(kFixtures + "mlp.onnx"));
  const ProcessResult table = run_gradflow({"analyze", "--model", model, "-b", "8", "--color", "never"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("--model " + d + "/m\\u200blp\\ufeff\\u2028.onnx:") != std::string::npos);
  CHECK(table.out.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(table.out.find("\xE2\x80\x8B") == std::string::npos);
  CHECK(table.out.find("\xEF\xBB\xBF") == std::string::npos);
  const ProcessResult j = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "json"});
  REQUIRE(j.exit_code == 0);
  CHECK(json::parse(j.out)["config"]["model"] == model);
}

TEST_CASE("invisible operators and a soft hyphen in a model's file and layer names: escaped in tables, exact in JSON and CSV") {
  const std::string d = temp_dir();
  const std::string times = "\xE2\x81\xA2", shy = "\xC2\xAD";  // U+2062 INVISIBLE TIMES, U+00AD SOFT HYPHEN
  const std::string model = d + "/m" + times + "lp" + shy + ".onnx";
  const std::string layer = "0.w" + shy + "x" + "\xE2\x81\xA1";  // and U+2061 FUNCTION APPLICATION
  write_renamed(model, layer);
  const ProcessResult table = run_gradflow({"analyze", "--model", model, "-b", "8", "--color", "never"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("--model " + d + "/m\\u2062lp\\u00ad.onnx:") != std::string::npos);
  CHECK(table.out.find("    1 0.w\\u00adx\\u2061 ") != std::string::npos);
  for (const std::string& raw : {times, shy, std::string("\xE2\x81\xA1")}) CHECK(table.out.find(raw) == std::string::npos);
  check_names_exact_in_data(model, layer);
}

TEST_CASE("summarize: a key from the records with a newline or a bidi control stays in its title line, escaped") {
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh,relu", "-d", "2", "-w", "4", "-b", "8", "--seed", "0:1", "-q"});
  INFO(sweep.err);
  REQUIRE(sweep.exit_code == 0);
  std::string records;
  int k = 0;
  for (const std::string& line : lines_of(sweep.out)) {
    json r = json::parse(line);
    r["config"]["x\nPASS " + kRLO] = k++;  // a key that varies: the pivot names it as averaged over
    records += r.dump() + "\n";
  }
  const std::string d = temp_dir();
  write_file(d + "/r.jsonl", records);
  const ProcessResult r = run_gradflow({"summarize", d + "/r.jsonl", "--pivot", "seed,activation"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(!lines.empty());
  CHECK(lines[0].find("averaged over x\\x0aPASS \\u202e (4 records") != std::string::npos);
  CHECK(no_hidden_controls(r.out));
  for (const std::string& line : lines) CHECK(line.rfind("PASS", 0) != 0);
}
