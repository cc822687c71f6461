// analyze --model and list --model through the real binary, against PyTorch autograd's float64
// gradients of the same models on the same batch (tests/fixtures/make_onnx_fixtures.py wrote
// the fixtures and reference.json), and the refusals: exit 2 with the flag, node or file named.
#include <cmath>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

std::vector<std::string> model_args(const std::string& model, const std::vector<std::string>& extra = {}) {
  return concat({"analyze", "--model", kFixtures + model, "--data", kFixtures + "batch.csv", "--label-col", "y", "-b",
                 "32", "--format", "json"},
                extra);
}

}  // namespace

TEST_CASE("--model: grad_weight_log10 per layer agrees with PyTorch autograd in f64 within 1e-6 decades") {
  const auto ref = nlohmann::json::parse(read_file(kFixtures + "reference.json"));
  for (const std::string model : {"mlp.onnx", "mlp_matmul.onnx", "mlp_smooth.onnx"})
    for (const std::string loss : {"xent", "mse"}) {
      CAPTURE(model);
      CAPTURE(loss);
      const ProcessResult r = run_gradflow(model_args(model, {"--dtype", "f64", "--loss", loss}));
      REQUIRE(r.exit_code == 0);
      const auto doc = nlohmann::json::parse(r.out);
      CHECK(doc["config"]["model"] == kFixtures + model);
      CHECK(doc["config"]["weights-from"] == "model");
      const auto& layers = doc["runs"][0]["layers"];
      const auto& expected = ref[model][loss]["grad_weight_log10"];
      CHECK(layers[0]["name"] == (model == "mlp_matmul.onnx" ? "layer1.w" : "0.weight"));
      REQUIRE(layers.size() == expected.size());
      for (std::size_t l = 0; l < layers.size(); ++l) {
        CAPTURE(l);
        CHECK(std::abs(layers[l]["grad_weight_log10"].get<double>() - expected[l].get<double>()) < 1e-6);
      }
      // f32: the same model within f32 rounding.
      const ProcessResult f32 = run_gradflow(model_args(model, {"--dtype", "f32", "--loss", loss}));
      REQUIRE(f32.exit_code == 0);
      const auto doc32 = nlohmann::json::parse(f32.out);  // named: a reference into a temporary would dangle
      const auto& l32 = doc32["runs"][0]["layers"];
      for (std::size_t l = 0; l < l32.size(); ++l)
        CHECK(std::abs(l32[l]["grad_weight_log10"].get<double>() - expected[l].get<double>()) < 1e-4);
    }
}

TEST_CASE("--model: byte-identical JSON for any --threads; --weights-from init draws other weights") {
  const ProcessResult one = run_gradflow(model_args("mlp.onnx", {"--threads", "1"}));
  const ProcessResult two = run_gradflow(model_args("mlp.onnx", {"--threads", "2"}));
  REQUIRE(one.exit_code == 0);
  CHECK(one.out == two.out);
  const ProcessResult fresh = run_gradflow(model_args("mlp.onnx", {"--weights-from", "init", "--init", "he_normal"}));
  REQUIRE(fresh.exit_code == 0);
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(fresh.out);
  CHECK(b["config"]["weights-from"] == "init");
  CHECK(b["config"]["width"] == a["config"]["width"]);
  CHECK(a["runs"][0]["layers"][0]["weight_log10"] != b["runs"][0]["layers"][0]["weight_log10"]);
  // Without --data, analyze's drawn inputs at the model's input width.
  const ProcessResult drawn = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "-b", "16", "--format", "json"});
  REQUIRE(drawn.exit_code == 0);
  const auto d = nlohmann::json::parse(drawn.out);
  CHECK(d["config"]["input-dim"] == 6);
  CHECK(!d["config"].contains("data"));
}

TEST_CASE("--model --weights-from init --init auto: a tanh/relu model draws each layer by its activation") {
  // mlp.onnx is 6 -> 16 tanh -> 16 relu -> 3: its relu layer draws He et al. 2015's 2/fan_in,
  // ||W_2||_F^2 = 16 x 16 x 2/16 = 32, where the old draw (the first layer's xavier_normal,
  // 2/32) gave 16: 0.15 decades lower in log10 ||W||, nearly 8 standard errors of log10 ||W|| over
  // 256 entries (0.019), beyond twice the tolerance of 3 of them.
  const ProcessResult r = run_gradflow(model_args("mlp.onnx", {"--weights-from", "init"}));
  REQUIRE(r.exit_code == 0);
  const auto run = nlohmann::json::parse(r.out)["runs"][0];
  CHECK(run["init"] == "auto (per layer: xavier_normal for tanh layers, he_normal for relu layers)");
  const double tol = 3 * 0.5 * std::sqrt(2.0 / 256) / std::log(10.0);  // 3 standard errors of log10 ||W||
  CHECK(std::abs(run["layers"][1]["weight_log10"].get<double>() - 0.5 * std::log10(32.0)) < tol);
}

TEST_CASE("--model: refusals name the node, the flag or the file; exit 2") {
  const ProcessResult conv = run_gradflow({"analyze", "--model", kFixtures + "conv.onnx"});
  CHECK(conv.exit_code == 2);
  CHECK(conv.err.find("node '/0/Conv' (Conv) is not supported; gradflow reads dense networks: Gemm, MatMul") !=
        std::string::npos);
  CHECK(conv.out.empty());
  const ProcessResult listed = run_gradflow({"list", "--model", kFixtures + "conv.onnx"});
  CHECK(listed.exit_code == 2);
  CHECK(listed.err.find("(Conv) is not supported") != std::string::npos);

  const ProcessResult depth = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "-d", "3"});
  CHECK(depth.exit_code == 2);
  CHECK(depth.err.find("--depth: --model gives its own depth; drop --depth") != std::string::npos);
  const ProcessResult init = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--init", "he_normal"});
  CHECK(init.exit_code == 2);
  CHECK(init.err.find("--init draws fresh weights") != std::string::npos);
  const ProcessResult from = run_gradflow({"analyze", "--weights-from", "init"});
  CHECK(from.exit_code == 2);
  CHECK(from.err.find("--weights-from") != std::string::npos);
  const ProcessResult bad_from = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--weights-from", "disk"});
  CHECK(bad_from.exit_code == 2);
  CHECK(bad_from.err.find("--weights-from") != std::string::npos);

  const ProcessResult input = run_gradflow(model_args("mlp.onnx", {"--input", "uniform"}));
  CHECK(input.exit_code == 2);
  CHECK(input.err.find("--input uniform draws the inputs, and --data") != std::string::npos);

  const std::string dir = temp_dir();
  write_file(dir + "/labels.csv", "a,b,c,d,e,f,y\n1,2,3,4,5,6,0\n1,2,3,4,5,6,7\n");
  const ProcessResult label = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--data", dir + "/labels.csv"});
  CHECK(label.exit_code == 2);
  CHECK(label.err.find("--label-col: label '7'") != std::string::npos);
  write_file(dir + "/narrow.csv", "a,b,y\n1,2,0\n3,4,1\n");
  const ProcessResult narrow = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--data", dir + "/narrow.csv"});
  CHECK(narrow.exit_code == 2);
  CHECK(narrow.err.find("2 feature columns, but the model reads 6 inputs") != std::string::npos);

  // Untrusted files: truncated, not protobuf, missing, a directory.
  const std::string bytes = read_file(kFixtures + "mlp.onnx");
  write_file(dir + "/cut.onnx", bytes.substr(0, bytes.size() / 2));
  write_file(dir + "/text.onnx", "this is not a model\n");
  for (const std::string& path : {dir + "/cut.onnx", dir + "/text.onnx", dir + "/missing.onnx", dir}) {
    CAPTURE(path);
    const ProcessResult r = run_gradflow({"analyze", "--model", path});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("gradflow: error: --model: '" + path + "'") != std::string::npos);
  }
}

TEST_CASE("list --model: the layers gradflow maps, with the file's names") {
  const ProcessResult r = run_gradflow({"list", "--model", kFixtures + "mlp_matmul.onnx", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["input_width"] == 6);
  REQUIRE(doc["layers"].size() == 3);
  CHECK(doc["layers"][0]["name"] == "layer1.w");
  CHECK(doc["layers"][0]["activation"] == "leaky_relu");
  CHECK(doc["layers"][1]["activation"] == "sigmoid");
  CHECK(doc["layers"][2]["kind"] == "head");
  CHECK(doc["layers"][2]["width"] == 3);
  const ProcessResult table = run_gradflow({"list", "--model", kFixtures + "mlp.onnx"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("0.weight") != std::string::npos);
  CHECK(table.out.find("tanh") != std::string::npos);
}

TEST_CASE("--model: residual LayerNorm, BatchNorm, branch scales and Clip/Softsign/SiLU fixtures agree with PyTorch in f64") {
  const auto ref = nlohmann::json::parse(read_file(kFixtures + "reference.json"));
  struct Case {
    std::string file, key;
    std::vector<std::string> extra;
  };
  const Case cases[] = {{"resnet_preln.onnx", "resnet_preln.onnx", {}},
                        {"resnet_preln_op13.onnx", "resnet_preln.onnx", {}},  // LayerNorm decomposed, same model
                        {"resnet_postln.onnx", "resnet_postln.onnx", {}},
                        {"mlp_bn.onnx", "mlp_bn.onnx", {}},
                        {"mlp_bn.onnx", "mlp_bn.onnx --bn-mode batch", {"--bn-mode", "batch"}},
                        {"mlp_hard.onnx", "mlp_hard.onnx", {}},
                        {"resnet_scaled.onnx", "resnet_scaled.onnx", {}},
                        {"tanh_stack.onnx", "tanh_stack.onnx", {}}};  // s + 0.5 F(s), s - 0.3 F(s)
  for (const Case& c : cases)
    for (const std::string loss : {"xent", "mse"}) {
      CAPTURE(c.key);
      CAPTURE(loss);
      std::vector<std::string> extra = {"--dtype", "f64", "--loss", loss};
      extra.insert(extra.end(), c.extra.begin(), c.extra.end());
      const ProcessResult r = run_gradflow(model_args(c.file, extra));
      REQUIRE(r.exit_code == 0);
      const auto doc = nlohmann::json::parse(r.out);
      const auto& layers = doc["runs"][0]["layers"];
      const auto& expected = ref[c.key][loss]["grad_weight_log10"];
      REQUIRE(layers.size() == expected.size());
      CHECK(layers[0]["name"] == "0.weight");
      for (std::size_t l = 0; l < layers.size(); ++l) {
        CAPTURE(l);
        CHECK(std::abs(layers[l]["grad_weight_log10"].get<double>() - expected[l].get<double>()) < 1e-6);
      }
    }
}

TEST_CASE("--model: the table and CSV name each layer and the run by the model file") {
  const std::string model = kFixtures + "resnet_preln.onnx";
  const ProcessResult table = run_gradflow({"analyze", "--model", model, "-b", "16", "--color", "never"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("resnet_preln.onnx (the model's weights)") != std::string::npos);
  CHECK(table.out.find("2.fc1.weight") != std::string::npos);
  const ProcessResult csv = run_gradflow({"analyze", "--model", model, "-b", "16", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("model,init,layer,name,fan_in,width", 0) == 0);
  CHECK(csv.out.find(",2.fc1.weight,") != std::string::npos);
}

TEST_CASE("list --model: residual blocks and norms, where they sit") {
  const ProcessResult r = run_gradflow({"list", "--model", kFixtures + "resnet_preln.onnx", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  const auto& layers = doc["layers"];
  REQUIRE(layers.size() == 6);  // the input layer, two blocks of two, the head
  CHECK(layers[0]["block"] == 0);
  CHECK(layers[0]["norm"] == "");
  CHECK(layers[1]["block"] == 1);
  CHECK(layers[1]["norm"] == "pre-layer norm");
  CHECK(layers[2]["block"] == 1);
  CHECK(layers[2]["norm"] == "");
  CHECK(layers[3]["block"] == 2);
  const ProcessResult post = run_gradflow({"list", "--model", kFixtures + "resnet_postln.onnx"});
  REQUIRE(post.exit_code == 0);
  CHECK(post.out.find("post-layer norm") != std::string::npos);
  const ProcessResult bn = run_gradflow({"list", "--model", kFixtures + "mlp_bn.onnx"});
  REQUIRE(bn.exit_code == 0);
  CHECK(bn.out.find("batch norm (running statistics)") != std::string::npos);
}

TEST_CASE("--model --theory: the model's architecture at a fresh init is the flags' network, theory and all") {
  const std::vector<std::string> common = {"--init", "xavier_normal", "-b", "64", "--theory", "--format", "json"};
  std::vector<std::string> model = {"analyze", "--model", kFixtures + "tanh_stack.onnx", "--weights-from", "init"};
  std::vector<std::string> flags = {"analyze", "-a", "tanh", "-d", "4", "-w", "16", "--input-dim", "6", "--classes", "3"};
  model.insert(model.end(), common.begin(), common.end());
  flags.insert(flags.end(), common.begin(), common.end());
  const ProcessResult m = run_gradflow(model), f = run_gradflow(flags);
  REQUIRE(m.exit_code == 0);
  REQUIRE(f.exit_code == 0);
  const auto dm = nlohmann::json::parse(m.out), df = nlohmann::json::parse(f.out);
  auto layers = dm["runs"][0]["layers"];
  for (auto& l : layers) l.erase("name");  // the model's layers carry the file's names
  CHECK(layers == df["runs"][0]["layers"]);
  REQUIRE(dm["runs"][0].contains("theory"));
  CHECK(dm["runs"][0]["theory"] == df["runs"][0]["theory"]);

  // Where the theory does not reach, exit 2 saying why.
  const ProcessResult own = run_gradflow({"analyze", "--model", kFixtures + "tanh_stack.onnx", "--theory"});
  CHECK(own.exit_code == 2);
  CHECK(own.err.find("add --weights-from init") != std::string::npos);
  const ProcessResult mixed =
      run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--weights-from", "init", "--theory"});
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.err.find("layer '2.weight' has relu, and layer '0.weight' tanh") != std::string::npos);
  const ProcessResult blocks =
      run_gradflow({"analyze", "--model", kFixtures + "resnet_preln.onnx", "--weights-from", "init", "--theory"});
  CHECK(blocks.exit_code == 2);
  CHECK(blocks.err.find("is a residual branch_in layer") != std::string::npos);
  const ProcessResult data = run_gradflow({"analyze", "--model", kFixtures + "tanh_stack.onnx", "--weights-from", "init",
                                           "--data", kFixtures + "batch.csv", "--label-col", "y", "--theory"});
  CHECK(data.exit_code == 2);
  CHECK(data.err.find("--theory: the theory starts from inputs drawn by --input") != std::string::npos);
}

TEST_CASE("list --model: a residual branch's scale, s + c F(s)") {
  const ProcessResult r = run_gradflow({"list", "--model", kFixtures + "resnet_scaled.onnx", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  const auto& layers = doc["layers"];
  REQUIRE(layers.size() == 6);
  CHECK(layers[2]["scale"] == 0.5);  // a Constant node
  CHECK(std::abs(layers[4]["scale"].get<double>() + 0.3) < 1e-7);  // a learned scalar, stored in f32
  CHECK_FALSE(layers[1].contains("scale"));
}

TEST_CASE("no report, plot, JUnit file, baseline or record file replaces a file the run reads") {
  const std::string dir = temp_dir();
  const std::string model = dir + "/m.onnx", data = dir + "/d.csv", arch = dir + "/a.json";
  write_file(model, read_file(kFixtures + "mlp.onnx"));
  write_file(data, read_file(kFixtures + "batch.csv"));
  write_file(arch, R"({"layers": [{"width": 8, "activation": "tanh"}, {"width": 4, "activation": "relu"}]})");
  const std::vector<std::string> run = {"--model", model, "--data", data, "--label-col", "y", "-b", "8"};
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {concat(concat({"analyze"}, run), {"-o", model}), "--output '" + model + "' is the file --model"},
      {concat(concat({"analyze"}, run), {"--format", "csv", "-o", data}), "--output '" + data + "' is the file --data"},
      {concat(concat({"check"}, run), {"--rules", "default", "--junit", data}), "--junit '" + data + "' is the file --data"},
      {concat(concat({"check"}, run), {"--rules", "default", "--save-baseline", model}), "--save-baseline '" + model + "'"},
      {concat(concat({"sweep"}, run), {"-q", "--overwrite", "-o", data}), "--output '" + data + "' is the file --data"},
      {{"analyze", "--arch", arch, "--init", "xavier_normal", "-o", arch},
       "--output '" + arch + "' is the file --arch"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const ProcessResult r = run_gradflow(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  CHECK(read_file(model) == read_file(kFixtures + "mlp.onnx"));
  CHECK(read_file(data) == read_file(kFixtures + "batch.csv"));
}

TEST_CASE("--model: empty file names, and BatchNorm's batch statistics over one sample, are refused") {
  const ProcessResult empty_data = run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--data", ""});
  CHECK(empty_data.exit_code == 2);
  CHECK(empty_data.err.find("--data: an empty value: give a CSV file") != std::string::npos);
  const ProcessResult empty_model = run_gradflow({"analyze", "--model", ""});
  CHECK(empty_model.exit_code == 2);
  CHECK(empty_model.err.find("--model: an empty value") != std::string::npos);
  const ProcessResult one = run_gradflow({"analyze", "--model", kFixtures + "mlp_bn.onnx", "--bn-mode", "batch", "-b", "1"});
  CHECK(one.exit_code == 2);
  CHECK(one.err.find("-b 1: BatchNorm with the batch's statistics") != std::string::npos);
  CHECK(one.err.find("--bn-mode running") != std::string::npos);
  CHECK(run_gradflow({"analyze", "--model", kFixtures + "mlp_bn.onnx", "-b", "1"}).exit_code == 0);  // running statistics
  const ProcessResult flags = run_gradflow({"analyze", "--norm", "batch", "-b", "1", "-d", "3", "-w", "8"});
  CHECK(flags.exit_code == 2);
  CHECK(flags.err.find("-b 1: BatchNorm") != std::string::npos);
}
