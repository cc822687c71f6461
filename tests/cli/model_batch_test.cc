// --model in check and sweep through the real binary: rules on a model's run (JUnit naming its
// layers by the file's names), baselines saved from a model run and replayed (refused when the
// model or data file changed since), sweeps over --data files and --init schemes. Expected values
// come from `analyze --model` on the same files, a separate command.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"

using namespace gf::test;
using json = nlohmann::ordered_json;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

// The fixture model and batch copied into a fresh directory, so a test may change them.
struct Copies {
  std::string dir, model, data;
};
Copies copy_fixtures(const std::string& model = "mlp.onnx") {
  Copies c;
  c.dir = temp_dir();
  c.model = c.dir + "/" + model;
  c.data = c.dir + "/batch.csv";
  write_file(c.model, read_file(kFixtures + model));
  write_file(c.data, read_file(kFixtures + "batch.csv"));
  return c;
}

json analyze_model(const std::string& model, const std::string& data, const std::string& batch = "32") {
  const std::vector<std::string> a = {"analyze", "--model", model, "--data", data, "--label-col", "y", "-b", batch, "--format", "json"};
  const ProcessResult r = run_gradflow(a);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::string xpath(const std::string& file, const std::string& expr) {
  const ProcessResult r = run_process({"/usr/bin/xmllint", "--xpath", expr, file});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("check --model: rules on the model's run; violations and JUnit name layers by the file's names") {
  const std::string model = kFixtures + "mlp.onnx", data = kFixtures + "batch.csv";
  const json a = analyze_model(model, data);
  const json& layers = a["runs"][0]["layers"];
  REQUIRE(layers.size() >= 2);
  // A bound at layer 2's value: every layer at or above it violates '<' (analyze says which).
  const double bound = layers[1]["grad_weight_log10"].get<double>();
  std::vector<std::string> expected;
  for (const json& l : layers)
    if (!(l["grad_weight_log10"].get<double>() < bound))
      expected.push_back(fmt::format("layer {} ({})", l["layer"].get<int>(), l["name"].get<std::string>()));
  REQUIRE(!expected.empty());
  const std::string rule = fmt::format("grad_weight_log10 < {:.17g}", bound);
  const std::string dir = temp_dir(), xml = dir + "/gate.xml";
  const ProcessResult r = run_gradflow({"check", "--model", model, "--data", data, "--label-col", "y", "-b", "32",
                                        "--rule", rule, "--junit", xml, "--format", "json"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  const json rep = json::parse(r.out);
  REQUIRE(rep["rules"].size() == 1);
  CHECK(rep["rules"][0]["checked"] == layers.size());
  const json& v = rep["rules"][0]["violations"];
  REQUIRE(v.size() == expected.size());
  for (std::size_t k = 0; k < v.size(); ++k)
    CHECK(fmt::format("layer {} ({})", v[k]["layer"].get<int>(), v[k]["name"].get<std::string>()) == expected[k]);
  const std::string details = xpath(xml, "string(//testsuite[@name='rules']/testcase/failure)");
  for (const std::string& e : expected) CHECK(details.find(e) != std::string::npos);

  // The default rule set on the model: one outcome per default rule, the exit code its verdict.
  const ProcessResult d = run_gradflow({"check", "--model", model, "--data", data, "--label-col", "y", "-b", "32",
                                        "--rules", "default", "--junit", xml, "--format", "json"});
  REQUIRE((d.exit_code == 0 || d.exit_code == 1));
  const json drep = json::parse(d.out);
  CHECK(drep["rules"].size() > 1);
  CHECK((d.exit_code == 0) == drep["passed"].get<bool>());
  CHECK(xpath(xml, "count(//testsuite[@name='rules']/testcase)") == std::to_string(drep["rules"].size()));
}

TEST_CASE("check --model: the flags that build a network are refused, as in analyze; a --config file carries --model") {
  const std::string model = kFixtures + "mlp.onnx";
  const ProcessResult depth = run_gradflow({"check", "--model", model, "-d", "3", "--rules", "default"});
  CHECK(depth.exit_code == 2);
  CHECK(depth.err.find("--depth: --model gives its own depth; drop --depth") != std::string::npos);
  const ProcessResult act = run_gradflow({"check", "--model", model, "-a", "relu", "--rules", "default"});
  CHECK(act.exit_code == 2);
  CHECK(act.err.find("--activation: --model gives each layer's activation; drop --activation") != std::string::npos);
  const ProcessResult init = run_gradflow({"check", "--model", model, "--init", "he_normal", "--rules", "default"});
  CHECK(init.exit_code == 2);
  CHECK(init.err.find("--init draws fresh weights") != std::string::npos);
  const ProcessResult data = run_gradflow({"check", "--data", kFixtures + "batch.csv", "--rules", "default"});
  CHECK(data.exit_code == 2);
  CHECK(data.err.find("--data: give --model") != std::string::npos);

  const std::string dir = temp_dir();
  write_file(dir + "/m.json", json{{"model", model}, {"data", kFixtures + "batch.csv"}, {"label-col", "y"},
                                   {"batch", 32}, {"rules", {"loss < 1e9"}}}.dump());
  const ProcessResult cfg = run_gradflow({"check", "--config", dir + "/m.json", "--format", "json"});
  INFO(cfg.err);
  CHECK(cfg.exit_code == 0);
  const json rep = json::parse(cfg.out);
  CHECK(rep["rules"][0]["checked"] == 1);
}

TEST_CASE("check --save-baseline from a model run: replayed unchanged it passes; a changed data or model file is exit 2") {
  const Copies c = copy_fixtures();
  const std::string base = c.dir + "/gate.json";
  const ProcessResult saved = run_gradflow({"check", "--model", c.model, "--data", c.data, "--label-col", "y", "-b",
                                            "32", "--rule", "loss < 1e9", "--save-baseline", base});
  INFO(saved.out, saved.err);
  REQUIRE(saved.exit_code == 0);
  // The baseline is analyze's document of the same run, with each file's path and content hash.
  const json doc = json::parse(read_file(base));
  const json a = analyze_model(c.model, c.data);
  CHECK(doc["config"] == a["config"]);
  CHECK(doc["runs"] == a["runs"]);
  CHECK(doc["config"]["model"] == c.model);
  CHECK(doc["config"]["data"] == c.data);
  CHECK(doc["config"]["label-col"] == "y");
  // FNV-1a 64 of the bytes, computed here independently.
  auto fnv = [](const std::string& bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char ch : bytes) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    return fmt::format("{:016x}", h);
  };
  CHECK(doc["config"]["model-fnv1a64"] == fnv(read_file(c.model)));
  CHECK(doc["config"]["data-fnv1a64"] == fnv(read_file(c.data)));

  const ProcessResult same = run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("PASS  baseline: all") != std::string::npos);

  // A recorded value moved: the mismatch names the layer by its name in the file (JUnit, JSON).
  json moved = doc;
  moved["runs"][0]["layers"][1]["grad_weight_log10"] = moved["runs"][0]["layers"][1]["grad_weight_log10"].get<double>() + 0.5;
  const std::string moved_path = c.dir + "/moved.json", xml = c.dir + "/moved.xml";
  write_file(moved_path, moved.dump(2));
  const ProcessResult off = run_gradflow({"check", "--baseline", moved_path, "--junit", xml, "--format", "json"});
  INFO(off.out, off.err);
  CHECK(off.exit_code == 1);
  const std::string layer2 = fmt::format("layer 2 ({})", doc["runs"][0]["layers"][1]["name"].get<std::string>());
  CHECK(xpath(xml, "string(//testcase[@name='layers.grad_weight_log10']/failure)").find(layer2) != std::string::npos);
  bool named = false;
  const json report = json::parse(off.out);  // named: a loop over a temporary's member would dangle
  for (const json& g : report["baseline"]["groups"])
    if (g["metric"] == "grad_weight_log10" && g["scope"] == "layers")
      named = g["mismatches"].size() == 1 && g["mismatches"][0]["name"] == doc["runs"][0]["layers"][1]["name"];
  CHECK(named);

  // A changed copy of the batch: one feature value.
  const std::string csv = read_file(c.data);
  std::string changed = csv;
  const std::size_t at = changed.find("-0.43234000554110225");
  REQUIRE(at != std::string::npos);
  changed.replace(at, 20, "-0.43234000554110226");
  write_file(c.data, changed);
  const ProcessResult data = run_gradflow({"check", "--baseline", base});
  CHECK(data.exit_code == 2);
  CHECK(data.out.empty());
  CHECK(data.err.find(fmt::format("--data '{}': its content changed since the baseline was saved", c.data)) !=
        std::string::npos);
  write_file(c.data, csv);

  // A changed copy of the model: one byte of the last initializer's data.
  std::string bytes = read_file(c.model);
  bytes[bytes.size() - 40] = static_cast<char>(bytes[bytes.size() - 40] ^ 1);
  write_file(c.model, bytes);
  const ProcessResult m = run_gradflow({"check", "--baseline", base});
  CHECK(m.exit_code == 2);
  CHECK(m.err.find(fmt::format("--model '{}': its content changed since the baseline was saved", c.model)) !=
        std::string::npos);
  write_file(c.model, read_file(kFixtures + "mlp.onnx"));
  CHECK(run_gradflow({"check", "--baseline", base}).exit_code == 0);

  // A missing file: exit 2 naming it.
  std::remove(c.data.c_str());
  const ProcessResult gone = run_gradflow({"check", "--baseline", base});
  CHECK(gone.exit_code == 2);
  CHECK(gone.err.find("--data: '" + c.data + "' cannot be read") != std::string::npos);

  const ProcessResult both = run_gradflow({"check", "--baseline", base, "--save-baseline", c.dir + "/x.json"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--save-baseline") != std::string::npos);
}

TEST_CASE("check --baseline of a model run with fresh weights: --weights-from init replays with the same draw") {
  const Copies c = copy_fixtures("resnet_preln.onnx");
  const std::string base = c.dir + "/b.json";
  const ProcessResult saved = run_gradflow({"analyze", "--model", c.model, "--weights-from", "init", "--init", "he_normal",
                                            "--data", c.data, "--label-col", "y", "--format", "json", "-o", base});
  INFO(saved.err);
  REQUIRE(saved.exit_code == 0);
  const ProcessResult same = run_gradflow({"check", "--baseline", base, "--atol", "0", "--rtol", "0"});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  // Compare mode: another init on the same model is a change the report names.
  const ProcessResult other = run_gradflow({"check", "--baseline", base, "--init", "xavier_normal", "--format", "json"});
  INFO(other.out, other.err);
  CHECK(other.exit_code == 1);
  const json rep = json::parse(other.out);
  bool init_changed = false;
  for (const json& ch : rep["baseline"]["config_changes"])  // "init", or per run "init (relu)"
    init_changed = init_changed || ch["key"].get<std::string>().rfind("init", 0) == 0;
  CHECK(init_changed);
}

TEST_CASE("check --baseline of a mixed model at --weights-from init: a recorded init that is not the replay's is named") {
  // mlp.onnx has tanh and relu layers: --init auto draws each with its own activation's scheme.
  // A baseline saved when auto drew every layer with one scheme is made here by recording
  // --init xavier_normal and writing "auto" into its config block.
  const Copies c = copy_fixtures();
  const std::string base = c.dir + "/b.json";
  auto record = [&](const std::string& init) {
    const ProcessResult saved = run_gradflow({"analyze", "--model", c.model, "--weights-from", "init", "--init", init,
                                              "--data", c.data, "--label-col", "y", "--format", "json", "-o", base});
    INFO(saved.err);
    REQUIRE(saved.exit_code == 0);
    return json::parse(read_file(base));
  };
  const json now = record("auto");
  const std::string run = now["runs"][0]["activation"].get<std::string>();
  const std::string label = now["runs"][0]["init"].get<std::string>();  // the replay's, as analyze prints it
  REQUIRE(label.rfind("auto (per layer: ", 0) == 0);
  const std::string line = fmt::format("init changed ({}): the weights were drawn with xavier_normal when recorded, {} now",
                                       run, label);
  // Unchanged: no such line, exit 0.
  const ProcessResult same = run_gradflow({"check", "--baseline", base});
  INFO(same.out, same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("init changed") == std::string::npos);

  json old = record("xavier_normal");
  REQUIRE(old["runs"][0]["init"] == "xavier_normal");
  REQUIRE(old["config"]["init"] == "xavier_normal");
  old["config"]["init"] = "auto";
  write_file(base, old.dump(2));
  const ProcessResult r = run_gradflow({"check", "--baseline", base});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);  // the metrics fail, as documented; the cause is said before them
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(lines.size() >= 3);
  CHECK(lines[1] == line + ": the metrics cannot match; record the baseline again (check --baseline FILE --update)");
  CHECK(lines[2].rfind("FAIL  baseline: ", 0) == 0);
  // JSON and JUnit carry it as a config change of the run, as compare mode does.
  const ProcessResult j = run_gradflow({"check", "--baseline", base, "--format", "json", "--junit", c.dir + "/j.xml"});
  CHECK(j.exit_code == 1);
  const json rep = json::parse(j.out);
  REQUIRE(rep["baseline"]["config_changes"].size() == 1);
  const json& ch = rep["baseline"]["config_changes"][0];
  CHECK(ch["key"] == "init (" + run + ")");
  CHECK(ch["baseline"] == "xavier_normal");
  CHECK(ch["now"] == label);
  CHECK(read_file(c.dir + "/j.xml").find("config changed: init (" + run + "): xavier_normal -&gt;") != std::string::npos);

  // Only the label edited (the metrics are those of the draw made now): named, and they match.
  json relabelled = record("auto");
  relabelled["runs"][0]["init"] = "xavier_normal";
  write_file(base, relabelled.dump(2));
  const ProcessResult label_only = run_gradflow({"check", "--baseline", base});
  INFO(label_only.out, label_only.err);
  CHECK(label_only.exit_code == 0);
  const std::vector<std::string> l2 = lines_of(label_only.out);
  REQUIRE(l2.size() >= 2);
  CHECK(l2[1] == line);
}

TEST_CASE("sweep --model: an axis over --data files and one over --init; records say which ran") {
  const Copies c = copy_fixtures();
  // A second batch: the rows in reverse order (the first -b rows then differ).
  std::vector<std::string> rows = lines_of(read_file(c.data));
  std::string reversed = rows[0] + "\n";
  for (std::size_t k = rows.size(); k-- > 1;) reversed += rows[k] + "\n";
  const std::string other = c.dir + "/reversed.csv";
  write_file(other, reversed);
  const ProcessResult r = run_gradflow({"sweep", "--model", c.model, "--data", c.data + "," + other, "--label-col", "y",
                                        "-b", "8", "-q"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> recs = lines_of(r.out);
  REQUIRE(recs.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    const json rec = json::parse(recs[k]);
    const std::string file = k == 0 ? c.data : other;
    CHECK(rec["config"]["model"] == c.model);
    CHECK(rec["config"]["data"] == file);
    const json a = analyze_model(c.model, file, "8");
    CHECK(rec["summary"] == a["runs"][0]["summary"]);
    CHECK(rec["config"]["data-fnv1a64"] == a["config"]["data-fnv1a64"]);
  }
  CHECK(json::parse(recs[0])["summary"]["loss"] != json::parse(recs[1])["summary"]["loss"]);

  const ProcessResult init = run_gradflow({"sweep", "--model", c.model, "--weights-from", "init", "--init",
                                           "he_normal,xavier_normal", "--seed", "0:1", "-b", "8", "-q", "--format", "csv"});
  INFO(init.err);
  REQUIRE(init.exit_code == 0);
  const std::vector<std::string> csv = lines_of(init.out);
  REQUIRE(csv.size() == 5);
  CHECK(csv[0].find(",model,model-fnv1a64,weights-from,bn-mode,") != std::string::npos);
  const std::vector<std::pair<std::string, std::string>> order = {
      {"he_normal", "0"}, {"he_normal", "1"}, {"xavier_normal", "0"}, {"xavier_normal", "1"}};
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(csv[k + 1].find("," + c.model + ",") != std::string::npos);
    const json a = json::parse(run_gradflow({"analyze", "--model", c.model, "--weights-from", "init", "--init",
                                             order[k].first, "--seed", order[k].second, "-b", "8", "--format", "json"})
                                   .out);
    CHECK(csv[k + 1].find("," + order[k].first + ",") != std::string::npos);
    CHECK(csv[k + 1].find(fmt::format(",{},", a["runs"][0]["summary"]["loss"].get<double>())) != std::string::npos);
  }

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"-d", "3"}, {"-w", "16"}, {"-a", "relu"}, {"--input-dim", "4"}}) {
    std::vector<std::string> a = {"sweep", "--model", c.model, "-q"};
    a.insert(a.end(), bad.begin(), bad.end());
    const ProcessResult refused = run_gradflow(a);
    CAPTURE(bad[0]);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find(": --model gives ") != std::string::npos);
    CHECK(refused.out.empty());
  }
  const ProcessResult drawn = run_gradflow({"sweep", "--model", c.model, "--init", "he_normal", "-q"});
  CHECK(drawn.exit_code == 2);
  CHECK(drawn.err.find("--init draws fresh weights") != std::string::npos);
  const ProcessResult missing = run_gradflow({"sweep", "--model", c.model, "--data", c.dir + "/none.csv", "-q"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("none.csv") != std::string::npos);
}

TEST_CASE("sweep --model --layers --format csv: a residual model's layer rows carry their block's figures, as analyze's") {
  const std::string model = kFixtures + "resnet_preln.onnx", data = kFixtures + "batch.csv";
  const ProcessResult sweep = run_gradflow({"sweep", "--model", model, "--data", data, "--label-col", "y", "-b", "8",
                                            "--layers", "-q", "--format", "csv"});
  INFO(sweep.err);
  REQUIRE(sweep.exit_code == 0);
  const std::vector<std::string> rows = lines_of(sweep.out);
  REQUIRE(rows.size() == 6);  // the header and 5 layers
  CHECK(rows[0].find(",block,block_stream_rms,") != std::string::npos);
  const json a = analyze_model(model, data, "8");
  const json& blocks = a["runs"][0]["blocks"];
  REQUIRE(blocks.size() == 2);
  // Layers 2 and 3 are block 1's branch: their rows end with block 1's figures.
  for (std::size_t l : {1u, 2u}) {
    CAPTURE(l);
    CHECK(rows[l + 1].find(fmt::format(",1,{},", blocks[0]["stream_rms"].get<double>())) != std::string::npos);
  }
  // Layer 1, the input projection, is in no block: its row ends with empty block cells.
  REQUIRE(rows[0].ends_with(",block,block_stream_rms,block_grad_stream_log10,block_branch_ratio"));
  CHECK(rows[1].ends_with(",,,,"));
}

