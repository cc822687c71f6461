// --arch and --dropout through the real binary: a file equal to flags gives the flags' document
// byte for byte (analyze and train), a mixed file runs in analyze, sweep, check and train,
// conflicting flags are refused by name, and dropout's documents do not depend on --threads.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;
using nlohmann::json;

namespace {

std::string write_arch(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  write_file(path, text);
  return path;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

const char* kMixed = R"({"layers": [{"width": 24, "activation": "gelu", "dropout": 0.2},
  {"block": [{"width": 24, "activation": "relu"}, {"width": 24}], "scale": 0.5, "norm": "layer"},
  {"width": 12, "activation": "silu", "norm": "batch"}]})";

}  // namespace

TEST_CASE("--arch equal to flags: byte-identical documents in analyze and train") {
  const std::string dir = temp_dir();
  struct Pair {
    std::string file;
    std::vector<std::string> flags;
  };
  const std::vector<Pair> pairs = {
      {R"({"layers": [{"width": 16, "activation": "tanh"}, {"width": 12, "activation": "tanh"}, {"width": 8, "activation": "tanh"}]})",
       {"-a", "tanh", "-d", "3", "-w", "16,12,8"}},
      {R"({"layers": [{"width": 16, "activation": "relu", "norm": "batch", "dropout": 0.3}, {"width": 16, "activation": "relu", "norm": "batch", "dropout": 0.3}]})",
       {"-a", "relu", "-d", "2", "-w", "16", "--norm", "batch", "--dropout", "0.3"}},
      {R"({"layers": [{"block": [{"width": 16, "activation": "gelu", "dropout": 0.1}, {"width": 16}], "scale": 0.5, "norm": "layer", "norm-position": "post"},
                      {"block": [{"width": 16, "activation": "gelu", "dropout": 0.1}, {"width": 16}], "scale": 0.5, "norm": "layer", "norm-position": "post"}]})",
       {"-a", "gelu", "-d", "4", "-w", "16", "--residual", "2", "--residual-scale", "0.5", "--norm", "layer",
        "--norm-position", "post", "--dropout", "0.1"}},
  };
  int i = 0;
  for (const Pair& p : pairs) {
    const std::string file = write_arch(dir, "net" + std::to_string(i++) + ".json", p.file);
    CAPTURE(file);
    const std::vector<std::string> analyze = {"analyze", "-b", "16", "--input-dim", "16", "--format", "json"};
    const ProcessResult a = run_gradflow(with(analyze, {"--arch", file}));
    const ProcessResult b = run_gradflow(with(analyze, p.flags));
    REQUIRE(a.exit_code == 0);
    CHECK(a.out == b.out);
    CHECK(a.out.find("\"arch\"") == std::string::npos);
    const std::vector<std::string> train = {"train", "--data", "blobs", "--n-train", "64", "--n-test", "32", "-b",
                                            "16", "--steps", "6", "--log-every", "3", "--format", "json"};
    const ProcessResult ta = run_gradflow(with(train, {"--arch", file}));
    const ProcessResult tb = run_gradflow(with(train, p.flags));
    REQUIRE(ta.exit_code == 0);
    CHECK(ta.out == tb.out);
  }
}

TEST_CASE("--arch with a mixed file: analyze, sweep, check and train run it") {
  const std::string dir = temp_dir();
  const std::string file = write_arch(dir, "mixed.json", kMixed);
  const ProcessResult a = run_gradflow({"analyze", "--arch", file, "-b", "16", "--format", "json"});
  REQUIRE(a.exit_code == 0);
  const json doc = json::parse(a.out);
  CHECK(doc["config"]["arch"] == file);
  CHECK(doc["runs"][0]["layers"].size() == 4);
  CHECK(doc["runs"][0]["layers"][3]["width"] == 12);
  CHECK(doc["runs"][0]["blocks"].size() == 1);

  const ProcessResult s = run_gradflow({"sweep", "--arch", file, "-b", "8", "--seed", "0:2", "-q"});
  REQUIRE(s.exit_code == 0);
  CHECK(std::count(s.out.begin(), s.out.end(), '\n') == 3);
  CHECK(s.out.find(file) != std::string::npos);

  const ProcessResult c = run_gradflow({"check", "--arch", file, "-b", "16"});
  CHECK((c.exit_code == 0 || c.exit_code == 1));
  CHECK(c.err.find("error") == std::string::npos);

  // Its document is a baseline that replays: the file gives the network again, and the same
  // numbers pass; the depth, widths and activations the document lists only label it.
  write_file(dir + "/base.json", a.out);
  const ProcessResult replay = run_gradflow({"check", "--baseline", dir + "/base.json"});
  CHECK(replay.exit_code == 0);
  CHECK(replay.err.find("error") == std::string::npos);
  const ProcessResult changed = run_gradflow({"check", "--baseline", dir + "/base.json", "--arch", file, "-b", "16",
                                              "--init", "xavier_uniform"});
  CHECK(changed.exit_code == 1);  // other weights: some metric moves past its tolerance
  // Compare mode on the recorded file: a flag on top of the recorded config, the file still the
  // network (not refused for the depth, widths and activations recorded beside it), the same
  // seed the same numbers.
  const ProcessResult same = run_gradflow({"check", "--baseline", dir + "/base.json", "--seed", "0"});
  INFO(same.err);
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("compared with the network of command line") != std::string::npos);
  const ProcessResult reseeded = run_gradflow({"check", "--baseline", dir + "/base.json", "--seed", "7", "--format", "json"});
  CHECK(reseeded.exit_code == 1);  // other weights
  CHECK(json::parse(reseeded.out)["baseline"]["mode"] == "compare");
  CHECK(json::parse(a.out)["config"]["arch-fnv1a64"].get<std::string>().size() == 16);
  // The file edited since: the replay refuses to run another network under the baseline's name.
  write_arch(dir, "mixed.json", std::string(kMixed) + "\n");
  const ProcessResult edited = run_gradflow({"check", "--baseline", dir + "/base.json"});
  CHECK(edited.exit_code == 2);
  CHECK(edited.err.find("--arch '" + file + "': its content changed since the baseline was saved") != std::string::npos);

  const ProcessResult t = run_gradflow({"train", "--arch", file, "--data", "spirals", "--n-train", "64", "--n-test",
                                        "32", "-b", "16", "--steps", "20", "--log-every", "10", "--format", "json"});
  REQUIRE(t.exit_code == 0);
  CHECK(json::parse(t.out)["runs"][0]["end"] == "completed");
}

TEST_CASE("--arch relu then tanh with --init auto: each layer its activation's scheme, in the weights and the label") {
  // Once refused (one --init for the whole net); now each layer draws as a plain net of its
  // activation: ||W_l||_F^2 = fan_in fan_out Var, He et al. 2015's 2/fan_in for relu, Glorot &
  // Bengio 2010's 2/(fan_in+fan_out) for tanh. The old draw (he_normal for all) puts the tanh
  // layer's log10 ||W|| 0.15 decades higher, 30 standard errors off at 256 x 256.
  const std::string dir = temp_dir();
  const std::string file = write_arch(dir, "relu-tanh.json", R"({"layers": [{"width": 256, "activation": "relu"},
    {"width": 256, "activation": "tanh"}, {"width": 128, "activation": "relu"}]})");
  const ProcessResult a =
      run_gradflow({"analyze", "--arch", file, "--input-dim", "64", "-b", "8", "--format", "json"});
  REQUIRE(a.exit_code == 0);
  const json run = json::parse(a.out)["runs"][0];
  CHECK(run["init"] == "auto (per layer: he_normal for relu layers, xavier_normal for tanh layers)");
  struct Layer {
    double fan_in, fan_out, variance;
  };
  const Layer layers[] = {{64, 256, 2.0 / 64}, {256, 256, 2.0 / 512}, {256, 128, 2.0 / 256}};
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const Layer& k = layers[i];
    const double expected = 0.5 * std::log10(k.fan_in * k.fan_out * k.variance);
    // log10 ||W|| of n Gaussian entries: standard error 0.5 sqrt(2/n) / ln 10; 5 of them.
    const double tol = 5 * 0.5 * std::sqrt(2 / (k.fan_in * k.fan_out)) / std::log(10.0);
    CHECK(std::abs(run["layers"][i]["weight_log10"].get<double>() - expected) < tol);
  }
  // Fixup needs blocks; a named --init draws every layer with it, as before.
  const ProcessResult named = run_gradflow(
      {"analyze", "--arch", file, "--input-dim", "64", "-b", "8", "--init", "he_normal", "--format", "json"});
  REQUIRE(named.exit_code == 0);
  const json he = json::parse(named.out)["runs"][0];
  CHECK(he["init"] == "he_normal");
  CHECK(std::abs(he["layers"][1]["weight_log10"].get<double>() - 0.5 * std::log10(256.0 * 2)) < 0.01);
}

TEST_CASE("--arch and --dropout: refusals name the flag, the value or the entry, and exit 2") {
  const std::string dir = temp_dir();
  const std::string file = write_arch(dir, "mixed.json", kMixed);
  const ProcessResult both = run_gradflow({"analyze", "--arch", file, "-d", "3", "--norm", "layer"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--arch " + file + " gives the whole network, and --depth, --norm set part of it too") !=
        std::string::npos);
  const std::string bad = write_arch(dir, "bad.json", R"({"layers": [{"width": 8, "activation": "relux"}]})");
  const ProcessResult b = run_gradflow({"analyze", "--arch", bad});
  CHECK(b.exit_code == 2);
  CHECK(b.err == "gradflow: error: --arch " + bad +
                     ": layers[0].activation: unknown value 'relux', did you mean 'relu'? (allowed: sigmoid, tanh, "
                     "relu, leaky_relu, elu, selu, gelu, silu, softplus, softsign, hard_tanh, identity)\n");
  const ProcessResult missing = run_gradflow({"analyze", "--arch", dir + "/none.json"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--arch") != std::string::npos);

  for (const char* p : {"1", "-0.5", "2"}) {
    const ProcessResult r = run_gradflow({"analyze", "--dropout", p});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(std::string("--dropout: '") + p + "' is not allowed") != std::string::npos);
    CHECK(r.err.find("[0, 1)") != std::string::npos);
  }
  // --theory's dropout mean field: plain stacks without norms (tests/theory/dropout_theory_test.cc)
  const ProcessResult theory =
      run_gradflow({"analyze", "--dropout", "0.2", "--theory", "-d", "4", "-w", "8", "--residual", "2"});
  CHECK(theory.exit_code == 2);
  CHECK(theory.err.find("--theory with dropout 0.2") != std::string::npos);
  CHECK(theory.err.find("residual blocks (--residual 2)") != std::string::npos);
  const ProcessResult normed = run_gradflow({"analyze", "--dropout", "0.2", "--theory", "-d", "2", "-w", "8", "--norm", "layer"});
  CHECK(normed.exit_code == 2);
  CHECK(normed.err.find("this network has a norm (--norm layer); drop --theory or the dropout") != std::string::npos);
  // Every obstacle named, and where they came from when an --arch file set them.
  const ProcessResult both_in = run_gradflow(
      {"analyze", "--dropout", "0.2", "--theory", "-d", "4", "-w", "8", "--residual", "2", "--norm", "layer"});
  CHECK(both_in.exit_code == 2);
  CHECK(both_in.err.find("residual blocks (--residual 2) and a norm (--norm layer)") != std::string::npos);
  const std::string flat = write_arch(dir, "flat.json",
                                      R"({"layers": [{"width": 8, "activation": "tanh", "norm": "layer", "dropout": 0.1},
                                                    {"width": 8, "activation": "tanh", "norm": "layer", "dropout": 0.1}]})");
  const ProcessResult from_file = run_gradflow({"analyze", "--arch", flat, "--theory"});
  CHECK(from_file.exit_code == 2);
  CHECK(from_file.err.find("a norm (--norm layer), set by --arch " + flat) != std::string::npos);
  // A file the flags cannot say (dropout on some layers only): refused for what it is.
  const std::string some = write_arch(dir, "some.json",
                                      R"({"layers": [{"width": 8, "activation": "tanh", "dropout": 0.5},
                                                    {"width": 8, "activation": "tanh"}]})");
  const ProcessResult per_layer = run_gradflow({"analyze", "--arch", some, "--theory"});
  CHECK(per_layer.exit_code == 2);
  CHECK(per_layer.err.find("--arch " + some + " sets its layers one by one; drop --theory") != std::string::npos);
  // A layer whose every unit the mask dropped on every sample: the verdict says so, not only "flat".
  const ProcessResult dropped =
      run_gradflow({"analyze", "--dropout", "0.999999", "-a", "tanh", "-d", "4", "-w", "8", "-b", "4"});
  CHECK(dropped.exit_code == 0);
  CHECK(dropped.out.find("every unit of layer 4 is flat or dropped (dropout 0.999999) on every sample") !=
        std::string::npos);
  const ProcessResult plain = run_gradflow({"analyze", "--dropout", "0.2", "--theory", "-d", "2", "-w", "8"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.out.find("dropout 0.2: q_l and the gradient factor chi carry 1/(1-p)") != std::string::npos);
  // --jacobian of the masked network is measured (tests/core/dropout_test.cc checks its figures)
  const ProcessResult jac =
      run_gradflow({"analyze", "--dropout", "0.2", "--jacobian", "-d", "2", "-w", "8", "--format", "json"});
  CHECK(jac.exit_code == 0);
  CHECK(json::parse(jac.out)["runs"][0]["jacobian"]["jac_rank_fraction"].is_number());
}

TEST_CASE("--dropout: a sweep axis, byte-identical documents for -j 1 and -j 3") {
  const std::vector<std::string> run = {"analyze", "-a", "relu,tanh", "-d", "4", "-w", "130", "-b", "70",
                                        "--dropout", "0.3", "--format", "json"};
  const ProcessResult one = run_gradflow(with(run, {"-j", "1"}));
  const ProcessResult three = run_gradflow(with(run, {"-j", "3"}));
  REQUIRE(one.exit_code == 0);
  CHECK(one.out == three.out);
  CHECK(json::parse(one.out)["config"]["dropout"] == 0.3);

  const ProcessResult s = run_gradflow({"sweep", "-a", "relu", "-d", "3", "-w", "16", "-b", "8", "--dropout",
                                        "0,0.25,0.5", "-q"});
  REQUIRE(s.exit_code == 0);
  CHECK(std::count(s.out.begin(), s.out.end(), '\n') == 3);
  CHECK(s.out.find("\"dropout\":0.25") != std::string::npos);
}

TEST_CASE("configs/arch: every example runs from the README's command, which names it") {
  const std::string readme = read_file(std::string(GRADFLOW_SOURCE_DIR) + "/README.md");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(GRADFLOW_SOURCE_DIR) + "/configs/arch")) {
    if (e.path().extension() != ".json") continue;
    CAPTURE(e.path());
    ++n;
    CHECK(readme.find("configs/arch/" + e.path().filename().string()) != std::string::npos);
    CHECK(json::parse(read_file(e.path()))["description"].get<std::string>().size() > 40);
    const ProcessResult r = run_gradflow({"analyze", "--arch", e.path().string(), "-b", "16", "--format", "json"});
    REQUIRE(r.exit_code == 0);
    const json doc = json::parse(r.out);
    CHECK(doc["config"]["arch"] == e.path().string());  // neither example is a flag form
    CHECK(doc["runs"][0]["finite"] == true);
  }
  CHECK(n >= 2);
}
