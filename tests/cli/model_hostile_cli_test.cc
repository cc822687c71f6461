// A hostile user's --model and --config, through the real binary: names from a file with control
// characters in them reach the terminal escaped (and JSON and CSV faithful); flags a model
// replaces are refused on the command line and in a --config file alike; the refusals tell a
// --model user what they can do; the seeds table names the model; a --config file's relative
// paths are taken from its own directory.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "process.h"

using namespace gf::test;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

// A name with an escape sequence that would turn the terminal red, a tab, a newline, a C1 CSI
// (U+009B, which some terminals obey too), and a quote and a comma for the CSV.
const std::string kEvil = "0.we\x1b[31might\tx\ny\xc2\x9b\"q,r";
// How a table shows it: every control character as \xNN or \u00NN, the rest as it is.
const std::string kShown = "0.we\\x1b[31might\\x09x\\x0ay\\u009b\"q,r";

// mlp.onnx with its first initializer (0.weight) renamed to `name`, written to `path`.
void write_renamed(const std::string& path, const std::string& name) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(read_file(kFixtures + "mlp.onnx")));
  onnx::GraphProto* g = m.mutable_graph();
  const std::string old = g->initializer(0).name();
  REQUIRE(old == "0.weight");
  g->mutable_initializer(0)->set_name(name);
  for (onnx::NodeProto& n : *g->mutable_node())
    for (int i = 0; i < n.input_size(); ++i)
      if (n.input(i) == old) n.set_input(i, name);
  write_file(path, m.SerializeAsString());
}

// No byte of `text` is a control character but newline (nor a C1 control in UTF-8).
bool no_controls(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if ((u < 0x20 && u != '\n') || u == 0x7F) return false;
    if (u == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9F)
      return false;
  }
  return true;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

}  // namespace

TEST_CASE("--model: control characters in the file's names and in its path are escaped in tables, kept in JSON and CSV") {
  const std::string dir = temp_dir();
  const std::string model = dir + "/evil\x1b" "c\x07.onnx";  // a file name can hold them too (ESC c resets the terminal)
  write_renamed(model, kEvil);
  const std::string shown_model = dir + "/evil\\x1bc\\x07.onnx";

  const ProcessResult table = run_gradflow({"analyze", "--model", model, "-b", "8", "--color", "never"});
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK(no_controls(table.out));
  CHECK(table.out.find("--model " + shown_model + ":") != std::string::npos);     // the header
  CHECK(table.out.find("evil\\x1bc\\x07.onnx (the model's weights)") != std::string::npos);
  CHECK(table.out.find("    1 " + kShown + " ") != std::string::npos);          // the layer's row
  CHECK(table.out.find("note: --model " + shown_model + " (its weights): " + kShown + " (16, tanh)") !=
        std::string::npos);
  // The name column is as wide as the escaped name: the width column lines up on both rows.
  std::size_t row1 = std::string::npos, row2 = std::string::npos;
  for (const std::string& line : lines_of(table.out)) {
    if (line.rfind("    1 ", 0) == 0) row1 = line.find(" 16 ");
    if (line.rfind("    2 2.weight", 0) == 0) row2 = line.find(" 16 ");
  }
  REQUIRE(row1 != std::string::npos);
  CHECK(row1 == row2);

  const ProcessResult listed = run_gradflow({"list", "--model", model});
  REQUIRE(listed.exit_code == 0);
  CHECK(no_controls(listed.out));
  CHECK(listed.out.find(shown_model + ": 6 inputs") != std::string::npos);
  CHECK(listed.out.find("      1  " + kShown + " dense") != std::string::npos);

  // check's table: a rule every layer breaks lists each by its name in the file.
  const ProcessResult checked = run_gradflow({"check", "--model", model, "-b", "8", "--rule", "weight_log10 < -9"});
  INFO(checked.err);
  CHECK(checked.exit_code == 1);
  CHECK(no_controls(checked.out));
  CHECK(checked.out.find("1 (" + kShown + ")") != std::string::npos);

  // JSON escapes by itself: the name as it is in the file.
  const ProcessResult json = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["runs"][0]["layers"][0]["name"] == kEvil);
  CHECK(doc["config"]["model"] == model);

  // CSV keeps the data as it is, quoted (RFC 4180: the quote doubled, the newline inside quotes).
  const ProcessResult csv = run_gradflow({"analyze", "--model", model, "-b", "8", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.find(",\"0.we\x1b[31might\tx\ny\xc2\x9b\"\"q,r\",6,16,") != std::string::npos);
}

TEST_CASE("--leaky-slope with --model is refused, as every flag the model replaces, on the command line and in a --config file") {
  const std::string model = kFixtures + "mlp_matmul.onnx";  // its first layer is a LeakyRelu
  const std::string expected = "--leaky-slope: --model gives each LeakyRelu its own alpha; drop --leaky-slope";
  for (const std::string cmd : {"analyze", "check", "sweep"}) {
    CAPTURE(cmd);
    const ProcessResult r = run_gradflow({cmd, "--model", model, "--leaky-slope", "0.3", "-b", "8"});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "gradflow: error: " + expected + "\n");
    CHECK(r.out.empty());
  }
  const ProcessResult depth = run_gradflow({"analyze", "--model", model, "-d", "3"});
  CHECK(depth.exit_code == 2);
  CHECK(depth.err.find("--depth: --model gives its own depth; drop --depth") != std::string::npos);

  // A --config file's values met no exclusion before: the model ran and they were ignored.
  const std::string dir = temp_dir();
  write_file(dir + "/slope.json", "{\"model\": \"" + model + "\", \"leaky-slope\": 0.3}");
  const ProcessResult in_file = run_gradflow({"analyze", "--config", dir + "/slope.json", "-b", "8"});
  CHECK(in_file.exit_code == 2);
  CHECK(in_file.err == "gradflow: error: --config " + dir + "/slope.json: " + expected + "\n");
  write_file(dir + "/depth.json", "{\"depth\": 3}");
  const ProcessResult split = run_gradflow({"analyze", "--model", model, "--config", dir + "/depth.json", "-b", "8"});
  CHECK(split.exit_code == 2);
  CHECK(split.err.find("--depth: --model gives its own depth") != std::string::npos);
  // --arch the same: the file gives the whole network, whichever key comes first.
  const std::string arch = std::string(GRADFLOW_SOURCE_DIR) + "/configs/arch/funnel.json";
  for (const std::string& text : {"{\"arch\": \"" + arch + "\", \"depth\": 3}", "{\"depth\": 3, \"arch\": \"" + arch + "\"}"}) {
    CAPTURE(text);
    write_file(dir + "/arch.json", text);
    const ProcessResult r = run_gradflow({"analyze", "--config", dir + "/arch.json", "-b", "8"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--arch " + arch + " gives the whole network, and --depth sets part of it too") != std::string::npos);
  }

  // A baseline of the model records the model's alpha as leaky-slope: its replay is the model's run.
  const ProcessResult saved =
      run_gradflow({"check", "--model", model, "-b", "8", "--rules", "default", "--save-baseline", dir + "/b.json"});
  REQUIRE((saved.exit_code == 0 || saved.exit_code == 1));
  const auto recorded = nlohmann::json::parse(read_file(dir + "/b.json"));
  CHECK(recorded["config"]["leaky-slope"].get<double>() != 0.01);  // the model's own alpha, not the default
  const ProcessResult replay = run_gradflow({"check", "--baseline", dir + "/b.json"});
  INFO(replay.err);
  CHECK(replay.exit_code == 0);
}

TEST_CASE("--jacobian with --bn-mode batch: the refusal offers what a --model user can do") {
  const ProcessResult r =
      run_gradflow({"analyze", "--model", kFixtures + "mlp_bn.onnx", "--bn-mode", "batch", "--jacobian", "-b", "8"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--jacobian with --bn-mode batch") != std::string::npos);
  CHECK(r.err.find("give --bn-mode running") != std::string::npos);
  CHECK(r.err.find("--norm") == std::string::npos);  // --model excludes it
  // The model's running statistics (the default) give a Jacobian.
  const ProcessResult running = run_gradflow({"analyze", "--model", kFixtures + "mlp_bn.onnx", "--jacobian", "-b", "8"});
  CHECK(running.exit_code == 0);
  // An --arch file's BatchNorm layer: named by its entry, the way out in the file.
  const std::string dir = temp_dir();
  write_file(dir + "/bn.json", R"({"layers": [{"width": 8, "activation": "relu", "norm": "batch"}, {"width": 8, "activation": "relu"}]})");
  const ProcessResult arch = run_gradflow({"analyze", "--arch", dir + "/bn.json", "--jacobian", "-b", "8"});
  CHECK(arch.exit_code == 2);
  CHECK(arch.err.find("layers[0] has norm batch") != std::string::npos);
}

TEST_CASE("--init fixup with --model: a residual model's branches are scaled by Fixup's rule; a plain one is refused as a model") {
  const std::string model = kFixtures + "resnet_preln.onnx";  // an input layer, 2 blocks of 2 layers
  auto layers = [&](const std::string& init) {
    const ProcessResult r = run_gradflow({"analyze", "--model", model, "--weights-from", "init", "--init", init, "-b",
                                          "8", "--dtype", "f64", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["runs"][0];
  };
  const auto fixup = layers("fixup");
  // Fixup scales what --init auto draws: each layer's own activation's scheme (tanh's input
  // layer xavier_normal, the gelu branches he_normal), the label naming them alike.
  const auto plain = layers("auto");
  const std::string init = fixup["init"], auto_init = plain["init"];
  REQUIRE(init.rfind("fixup (per layer: ", 0) == 0);
  CHECK(init.substr(5) == auto_init.substr(4));
  CHECK(init.find("xavier_normal for tanh layers, he_normal for gelu layers") != std::string::npos);
  // Zhang et al. 2019: branch layers x blocks^(-1/(2m-2)) = 2^(-1/2) here, each branch's last
  // layer zero, the input projection as drawn. The same seed draws the same weights.
  const auto& f = fixup["layers"];
  const auto& p = plain["layers"];
  REQUIRE(f.size() == 5);
  CHECK(f[0]["weight_log10"].get<double>() == doctest::Approx(p[0]["weight_log10"].get<double>()).epsilon(1e-12));
  for (const int l : {1, 3}) {
    CAPTURE(l);
    CHECK(f[l]["weight_log10"].get<double>() - p[l]["weight_log10"].get<double>() ==
          doctest::Approx(-0.5 * std::log10(2.0)).epsilon(1e-9));
  }
  CHECK(f[2]["weight_log10"].is_null());  // log10 of a zero norm
  CHECK(f[4]["weight_log10"].is_null());

  const ProcessResult flat = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--weights-from", "init", "--init", "fixup"});
  CHECK(flat.exit_code == 2);
  CHECK(flat.err.find("--init fixup scales the branches of residual blocks, and the model " + kFixtures +
                      "mlp.onnx has none (a plain stack): choose another --init") != std::string::npos);
  CHECK(flat.err.find("--residual") == std::string::npos);  // --model excludes it
}

TEST_CASE("analyze --model over several seeds: the header and titles name the model, as one seed's do") {
  const ProcessResult r = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--data", kFixtures + "batch.csv",
                                        "--label-col", "y", "--seed", "0:2", "-b", "8", "--color", "never"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(!lines.empty());
  CHECK(lines[0] == "gradflow analyze: --model " + kFixtures + "mlp.onnx: depth 2, width 16, batch 8, input the first "
                    "rows of " + kFixtures + "batch.csv, loss xent, f32, seeds 0:2 (3 runs per activation)");
  CHECK(r.out.find("\nmlp.onnx (the model's weights)\n") != std::string::npos);
  CHECK(r.out.find("\nsummary ") != std::string::npos);
  const ProcessResult one = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--data", kFixtures + "batch.csv",
                                          "--label-col", "y", "-b", "8", "--color", "never"});
  REQUIRE(one.exit_code == 0);
  // The same words but the seed.
  CHECK(one.out.rfind(lines[0].substr(0, lines[0].find(", seeds")) + ", seed 0\n", 0) == 0);
}

TEST_CASE("check --save-baseline's help says every file it hashes") {
  const ProcessResult r = run_gradflow({"check", "--help"});
  REQUIRE(r.exit_code == 0);
  std::string help;  // CLI11 wraps the text: its words on one line
  for (const char ch : r.out)
    if (ch != '\n' && !(ch == ' ' && !help.empty() && help.back() == ' ')) help += ch;
    else if (ch == '\n' && !help.empty() && help.back() != ' ') help += ' ';
  CHECK(help.find("external data files") != std::string::npos);
  CHECK(help.find("--data and an --arch file") != std::string::npos);
}

TEST_CASE("--config: relative paths of the files it names are taken from its directory, outputs from the working one") {
  const std::string top = temp_dir();
  std::filesystem::create_directories(top + "/sub");
  std::filesystem::create_directories(top + "/elsewhere");
  write_file(top + "/sub/mlp.onnx", read_file(kFixtures + "mlp.onnx"));
  write_file(top + "/sub/batch.csv", read_file(kFixtures + "batch.csv"));
  write_file(top + "/sub/c.json",
             R"({"model": "mlp.onnx", "data": "batch.csv", "label-col": "y", "batch": 8, "format": "json", "output": "out.json"})");
  ProcessOptions o;
  o.cwd = top;
  const ProcessResult r = run_gradflow({"analyze", "--config", "sub/c.json"}, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(file_exists(top + "/out.json"));  // the output where the command ran
  CHECK(!file_exists(top + "/sub/out.json"));
  const auto doc = nlohmann::json::parse(read_file(top + "/out.json"));
  CHECK(doc["config"]["model"] == "sub/mlp.onnx");  // as seen from where it ran: a baseline replays from there
  CHECK(doc["config"]["data"] == "sub/batch.csv");
  // From another directory, by an absolute path to the config: the same files.
  o.cwd = top + "/elsewhere";
  const ProcessResult far = run_gradflow({"analyze", "--config", top + "/sub/c.json", "-o", "-"}, o);
  INFO(far.err);
  REQUIRE(far.exit_code == 0);
  const auto doc2 = nlohmann::json::parse(far.out);
  CHECK(doc2["config"]["model"] == top + "/sub/mlp.onnx");
  CHECK(doc2["runs"][0]["layers"] == doc["runs"][0]["layers"]);
  // A flag on the command line is the user's own: from the working directory, as always.
  const ProcessResult flag = run_gradflow({"analyze", "--config", top + "/sub/c.json", "--data", "batch.csv", "-o", "-"}, o);
  CHECK(flag.exit_code == 2);
  CHECK(flag.err.find("batch.csv") != std::string::npos);
  // A sweep's list of --data files, element by element.
  write_file(top + "/sub/b2.csv", read_file(kFixtures + "batch.csv"));
  write_file(top + "/sub/s.json", R"({"model": "mlp.onnx", "data": ["batch.csv", "b2.csv"], "label-col": "y", "batch": 8})");
  const ProcessResult sweep = run_gradflow({"sweep", "--config", top + "/sub/s.json", "-q"}, o);
  INFO(sweep.err);
  REQUIRE(sweep.exit_code == 0);
  CHECK(sweep.out.find(top + "/sub/b2.csv") != std::string::npos);
}
