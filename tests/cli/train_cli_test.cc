// `gradflow train` as a user runs it: the report, JSON and trace, errors and exit codes, the
// presets, Ctrl-C, and determinism across -j.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"

using namespace gf::test;
using json = nlohmann::json;

namespace {

// A few hundred steps of small networks: fast even under the sanitizers.
const std::vector<std::string> kSmall = {"train", "-d", "2", "-w", "16", "--n-train", "200", "--n-test", "50",
                                         "--batch", "20", "--steps", "40", "--log-every", "10"};

std::vector<std::string> small(const std::vector<std::string>& extra) { return concat(kSmall, extra); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string source(const std::string& path) { return std::string(GRADFLOW_SOURCE_DIR) + "/" + path; }

}  // namespace

TEST_CASE("train: table report with a row per run and the sentences") {
  const ProcessResult r = run_gradflow(small({"-a", "tanh,relu", "--color", "never"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with("gradflow train: spirals (3 classes, 2 features; 200 train, 50 test), depth 2, width 16"));
  CHECK(r.out.find("\ntanh  ") != std::string::npos);
  CHECK(r.out.find("\nrelu  ") != std::string::npos);
  CHECK(r.out.find("to target: first step with train error <= 25%") != std::string::npos);
  CHECK(r.out.find("vs tanh: speed-up, tanh's steps to target (same seed) / this run's") != std::string::npos);
}

TEST_CASE("train: JSON report, byte-identical for any -j, with a spread over seeds") {
  const auto args = small({"-a", "tanh,relu", "--seed", "0:2", "--format", "json"});
  std::vector<std::string> j1 = args, j2 = args;
  j1.insert(j1.end(), {"-j", "1"});
  j2.insert(j2.end(), {"-j", "2"});
  const ProcessResult a = run_gradflow(j1), b = run_gradflow(j2);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  CHECK(a.out == b.out);
  const json doc = json::parse(a.out);
  CHECK(doc["command"] == "train");
  CHECK(doc["config"]["seed"] == "0:2");
  CHECK(doc["data"]["n_train"] == 200);
  REQUIRE(doc["runs"].size() == 6);
  CHECK(doc["runs"][1]["activation"] == "relu");
  CHECK(doc["runs"][1]["seed"] == 0);
  CHECK(doc["runs"][2]["seed"] == 1);
  CHECK(!doc["runs"][0].contains("seconds"));  // wall-clock only with --timings
  CHECK(doc["runs"][0]["log"].size() == 5);    // steps 0, 10, 20, 30, 40
  // The aggregate's mean is the mean of the runs' steps_to_target.
  for (const json& agg : doc["aggregate"]) {
    double sum = 0;
    int n = 0;
    for (const json& run : doc["runs"])
      if (run["activation"] == agg["activation"] && run["reached_target"].get<bool>()) {
        sum += run["steps_to_target"].get<double>();
        ++n;
      }
    CHECK(agg["steps_to_target"]["n"] == n);
    if (n > 0) CHECK(agg["steps_to_target"]["mean"].get<double>() == doctest::Approx(sum / n));
  }
  // A list of seeds, on the command line or in a config file, is the same range.
  const std::string dir = temp_dir();
  write_file(dir + "/seeds.json", R"({"seed": [0, 1, 2]})");
  std::vector<std::string> listed = args, from_file = args;
  listed.insert(listed.end(), {"--seed", "0,1,2"});
  listed.erase(listed.begin() + static_cast<long>(kSmall.size()) + 2, listed.begin() + static_cast<long>(kSmall.size()) + 4);
  CHECK(run_gradflow(listed).out == a.out);
  from_file.erase(from_file.begin() + static_cast<long>(kSmall.size()) + 2, from_file.begin() + static_cast<long>(kSmall.size()) + 4);
  from_file.insert(from_file.end(), {"--config", dir + "/seeds.json"});
  CHECK(run_gradflow(from_file).out == a.out);
  // Feeding the config back reproduces the document.
  write_file(dir + "/c.json", doc["config"].dump());
  const ProcessResult again = run_gradflow({"train", "--config", dir + "/c.json", "--format", "json"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == a.out);
}

TEST_CASE("train --trace: JSON Lines, one whole line per run and log step") {
  const std::string dir = temp_dir(), trace = dir + "/t.jsonl";
  const ProcessResult r = run_gradflow(small({"-a", "sigmoid,relu", "--trace", trace, "-j", "2"}));
  REQUIRE(r.exit_code == 0);
  const std::string text = read_file(trace);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto lines = lines_of(text);
  CHECK(lines.size() == 2 * 5);
  int relu_lines = 0;
  for (const std::string& line : lines) {
    const json rec = json::parse(line);  // throws, failing the test, on a partial line
    CHECK(rec["step"].get<int>() % 10 == 0);
    REQUIRE(rec["layers"].size() == 2);
    for (const char* key : {"grad_weight_log10", "update_ratio_log10", "saturated_frac", "dead_units_frac",
                            "act_mean", "dw_sign_coherence"})
      CHECK(rec["layers"][0].contains(key));
    relu_lines += rec["activation"] == "relu";
  }
  CHECK(relu_lines == 5);
}

TEST_CASE("train --plot: an SVG beside the report; a wrong name is a usage error before any training") {
  const std::string dir = temp_dir(), plot = dir + "/p.svg";
  const ProcessResult r = run_gradflow(small({"-a", "tanh,relu", "--plot", plot}));
  REQUIRE(r.exit_code == 0);
  const std::string svg = read_file(plot);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("data-name=\"relu dead\"") != std::string::npos);
  const ProcessResult pdf = run_gradflow(small({"--plot", dir + "/p.pdf"}));
  CHECK(pdf.exit_code == 2);
  CHECK(pdf.err.find("--plot: '" + dir + "/p.pdf' does not end in .svg") != std::string::npos);
  const ProcessResult same = run_gradflow(small({"--plot", dir + "/q.svg", "--trace", dir + "/q.svg"}));
  CHECK(same.exit_code == 2);
  CHECK(same.err.find("--trace and --plot are both") != std::string::npos);
}

TEST_CASE("train: a diverging run warns with step, layer and hint; the other finishes; exit 0") {
  const ProcessResult r = run_gradflow({"train", "-a", "tanh,relu", "--data", "blobs", "-d", "4", "-w", "32",
                                        "--n-train", "300", "--n-test", "0", "--batch", "32", "--optimizer",
                                        "momentum", "--lr", "1", "--steps",
                                        "100", "--log-every", "5", "--format", "json", "-j", "1"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.starts_with("gradflow: warning: relu: diverged at step "));
  CHECK(r.err.find("became non-finite; lower --lr (now 1)\n") != std::string::npos);
  const json doc = json::parse(r.out);
  CHECK(doc["runs"][0]["end"] == "completed");
  CHECK(doc["runs"][1]["end"] == "diverged");
  CHECK(doc["runs"][1]["divergence"]["step"].get<int>() > 0);
  CHECK(doc["runs"][1]["divergence"]["layer"].get<int>() >= 1);
}

TEST_CASE("train: Ctrl-C stops cleanly, keeps the trace whole and reports the steps so far") {
  const std::string dir = temp_dir(), trace = dir + "/t.jsonl";
  const ProcessResult r = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "INT", "2", GRADFLOW_BINARY,
                                       "train", "-a", "tanh,relu", "-d", "2", "-w", "16", "--steps", "1000000000",
                                       "--log-every", "50", "--trace", trace, "--color", "never"});
  CHECK(r.exit_code == 130);
  CHECK(r.err.find("gradflow: interrupted: the report covers the steps taken so far") != std::string::npos);
  CHECK(r.out.find("interrupted: every run stopped early") != std::string::npos);
  const std::string text = read_file(trace);
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  for (const std::string& line : lines_of(text)) CHECK_NOTHROW(json::parse(line));
}

TEST_CASE("train: CSV data, string labels, and its errors") {
  const std::string dir = temp_dir();
  std::string csv = "len,wid,species\n";
  for (int i = 0; i < 60; ++i)
    csv += std::to_string(i % 3 + 0.1 * (i % 7)) + "," + std::to_string(2.0 - i % 3) + "," +
           (i % 3 == 0 ? "setosa" : i % 3 == 1 ? "versicolor" : "virginica") + "\n";
  write_file(dir + "/iris.csv", csv);
  const ProcessResult ok = run_gradflow({"train", "--data", dir + "/iris.csv", "--label-col", "species", "-a", "relu",
                                         "--standardize", "-d", "2", "-w", "8", "--batch", "16", "--steps", "20",
                                         "--format", "json"});
  REQUIRE(ok.exit_code == 0);
  const json doc = json::parse(ok.out);
  CHECK(doc["data"]["classes"] == 3);
  CHECK(doc["data"]["features"] == 2);
  CHECK(doc["data"]["n_test"] == 12);
  CHECK(doc["data"]["class_names"] == json({"setosa", "versicolor", "virginica"}));

  write_file(dir + "/bad.csv", "a,b,y\n1,2,x\n3,oops,y\n");
  const ProcessResult bad = run_gradflow({"train", "--data", dir + "/bad.csv"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "gradflow: error: --data " + dir +
                       "/bad.csv: line 3, column 2 ('b'): 'oops' is not a number; feature columns must be numeric (is "
                       "the label column 'y' the right one? see --label-col)\n");
  CHECK(bad.out.empty());
  write_file(dir + "/ragged.csv", "a,b,y\n1,2,x\n3,y\n");
  CHECK(run_gradflow({"train", "--data", dir + "/ragged.csv"}).err ==
        "gradflow: error: --data " + dir + "/ragged.csv: line 3: 2 columns, but the header has 3\n");
  const ProcessResult missing = run_gradflow({"train", "--data", dir + "/nope.csv"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "gradflow: error: --data: cannot read '" + dir + "/nope.csv': No such file or directory\n");
}

TEST_CASE("train: usage errors name the flag, the value and what is allowed") {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"train", "--data", "spiral"},
       "gradflow: error: --data: 'spiral' is not a built-in dataset (did you mean 'spirals'?) (spirals, blobs, "
       "teacher) nor a file\n"},
      {{"train", "--optimizer", "adam", "--momentum", "0.5"},
       "gradflow: error: --momentum applies to --optimizer momentum, not adam\n"},
      {{"train", "--optimizer", "sgd", "--beta1", "0.8"},
       "gradflow: error: --beta1 applies to --optimizer adam, not sgd\n"},
      {{"train", "--loss", "random"},
       "gradflow: error: --loss random backpropagates a fixed direction and cannot be trained; give xent or mse\n"},
      {{"train", "--n-train", "50"},
       "gradflow: error: --batch 64 is larger than the training set (50 samples); lower --batch or raise --n-train\n"},
      {{"train", "--seed", "3:1"}, "gradflow: error: --seed: '3:1': the range 3:1 is empty; give A <= B\n"},
      {{"train", "--seed", "x"},
       "gradflow: error: --seed: 'x' is not allowed: give a whole number N, a range A:B (A <= B, both included) or a "
       "list N,M,...\n"},
      {{"train", "--input", "positive", "--standardize"},
       "gradflow: error: --standardize and --input positive both rescale the features: give one\n"},
      {{"train", "--label-col", "y"},
       "gradflow: error: --label-col applies to CSV files; the built-in spirals dataset is split by --n-train and "
       "--n-test\n"},
      {{"train", "--data", "blobs", "--teacher-depth", "3"},
       "gradflow: error: --teacher-depth applies to --data teacher, not blobs\n"},
      {{"train", "--input-dim", "5"},
       "gradflow: error: --input-dim 5: the spirals dataset has 2 features; leave --input-dim unset\n"},
      {{"train", "--lr", "0"}, "gradflow: error: --lr: '0' is not allowed: give a number above 0\n"},
      {{"train", "--trace", "/nonexistent/dir/t.jsonl", "--steps", "1"},
       "gradflow: error: --trace: cannot write '/nonexistent/dir/t.jsonl': No such file or directory\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const ProcessResult r = run_gradflow(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err == c.err);
    CHECK(r.out.empty());
  }
}

TEST_CASE("train: every preset in configs/ runs (a few steps) from the source tree") {
  for (const char* preset : {"relu-vs-tanh", "dying-relu", "sigmoid-saturation", "zig-zag"}) {
    CAPTURE(preset);
    const ProcessResult r = run_gradflow({"train", "--config", source(std::string("configs/") + preset + ".json"),
                                          "--steps", "2", "--log-every", "1", "--seed", "0", "--eval-batch", "100",
                                          "--n-test", "100", "--format", "json"});
    REQUIRE(r.exit_code == 0);
    const json doc = json::parse(r.out);
    CHECK(doc["runs"][0]["steps_done"] == 2);
    CHECK(doc["config"]["steps"] == 2);
  }
}

TEST_CASE("train: an optimiser's own flag picks it when --optimizer is not given") {
  auto optimizer_of = [](std::vector<std::string> extra) {
    const ProcessResult r = run_gradflow(small(extra));
    REQUIRE(r.exit_code == 0);
    const json config = json::parse(r.out)["config"];
    return config["optimizer"].get<std::string>() + " " + config["lr"].dump();
  };
  CHECK(optimizer_of({"--format", "json"}) == "sgd 0.05");
  CHECK(optimizer_of({"--momentum", "0.5", "--format", "json"}) == "momentum 0.05");
  CHECK(optimizer_of({"--beta2", "0.99", "--format", "json"}) == "adam 0.001");
  CHECK(optimizer_of({"--optimizer", "adam", "--lr", "0.01", "--format", "json"}) == "adam 0.01");
}

TEST_CASE("train --help teaches: presets, examples, exit codes") {
  const ProcessResult r = run_gradflow({"train", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* s : {"--optimizer NAME:{sgd,momentum,adam}=sgd", "--target-error F=0.25", "--trace FILE",
                        "configs/relu-vs-tanh.json", "(exit 130)", "--seed SEEDS=0"})
    CHECK(r.out.find(s) != std::string::npos);
}

// --- steps to target, the speed-up's reference, learning-rate lists ----------------------------

namespace {

json train_json(std::vector<std::string> args) {
  args.insert(args.begin(), {"train", "-d", "3", "-w", "32", "--n-train", "300", "--n-test", "0", "--batch", "30",
                             "--format", "json"});
  const ProcessResult r = run_gradflow(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("train: steps to target is the first step at or below it, whatever --log-every") {
  // Momentum makes the error on the evaluation batch jump by a few points a step near the
  // target, dipping below it before it stays: the count must find the first dip.
  const std::vector<std::string> net = {"-a", "tanh,relu", "--seed", "0:1", "--optimizer", "momentum", "--lr", "0.05",
                                        "--steps", "600", "--target-error", "0.2"};
  auto with = [&](const std::vector<std::string>& extra) { return train_json(concat(net, extra)); };
  const json brute = with({"--log-every", "1"});  // a log record, with its error, at every step
  const json by_default = with({});
  const json every_7 = with({"--log-every", "7"});
  const json every_step = with({"--target-every", "1"});
  int reached = 0;
  for (std::size_t k = 0; k < brute["runs"].size(); ++k) {
    // The brute-force answer, read off every step's record here.
    json first = nullptr;
    for (const json& rec : brute["runs"][k]["log"])
      if (rec["train_error"].is_number() && rec["train_error"].get<double>() <= 0.2) {
        first = rec["step"];
        break;
      }
    CAPTURE(k);
    CHECK(brute["runs"][k]["steps_to_target"] == first);
    CHECK(by_default["runs"][k]["steps_to_target"] == first);
    CHECK(every_7["runs"][k]["steps_to_target"] == first);
    CHECK(every_step["runs"][k]["steps_to_target"] == first);
    reached += first.is_number();
  }
  CHECK(reached >= 3);
}

TEST_CASE("train --speedup-vs: the reference is named, and every speed-up is its steps over the run's") {
  const json d = train_json({"-a", "sigmoid,relu,tanh", "--steps", "400", "--lr", "0.3"});
  CHECK(d["speedup_vs"] == "tanh");  // tanh when trained, wherever it is in the list
  auto steps = [&](const std::string& act) {
    for (const json& r : d["runs"])
      if (r["activation"] == act) return r["steps_to_target"];
    return json();
  };
  REQUIRE(steps("tanh").is_number());
  for (const json& r : d["runs"]) {
    if (!r["steps_to_target"].is_number()) continue;
    CHECK(r["speedup"].get<double>() == doctest::Approx(steps("tanh").get<double>() / r["steps_to_target"].get<double>()));
  }
  const json first = train_json({"-a", "relu,sigmoid", "--steps", "100"});
  CHECK(first["speedup_vs"] == "relu");  // no tanh: the first activation
  const ProcessResult t = run_gradflow(small({"-a", "sigmoid,relu", "--speedup-vs", "relu", "--color", "never"}));
  CHECK(t.out.find(" vs relu ") != std::string::npos);
  CHECK(t.out.find("vs relu: speed-up, relu's steps to target") != std::string::npos);
  const ProcessResult bad = run_gradflow(small({"-a", "sigmoid,relu", "--speedup-vs", "tanh"}));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--speedup-vs: 'tanh' is not one of the activations trained (sigmoid, relu)") != std::string::npos);
}

TEST_CASE("train --lr R1,R2: each activation at each rate, and at its own best rate") {
  const json d = train_json({"-a", "tanh,relu", "--seed", "0:1", "--lr", "0.02,0.2", "--steps", "300"});
  CHECK(d["config"]["lr"] == json({0.02, 0.2}));
  REQUIRE(d["runs"].size() == 8);  // 2 seeds x 2 rates x 2 activations
  CHECK(d["runs"][2]["lr"] == 0.2);
  CHECK(d["runs"][4]["seed"] == 1);
  REQUIRE(d["aggregate"].size() == 4);
  // The best rate of each activation, worked out here: most seeds at the target, then fewest steps.
  for (const json& best : d["best_lr"]) {
    const std::string act = best["activation"];
    double best_lr = 0;
    int best_reached = -1;
    double best_mean = 1e300;
    for (const double lr : {0.02, 0.2}) {
      int n = 0;
      double sum = 0;
      for (const json& r : d["runs"])
        if (r["activation"] == act && r["lr"] == lr && r["steps_to_target"].is_number())
          ++n, sum += r["steps_to_target"].get<double>();
      const double mean = n ? sum / n : 1e300;
      if (n > best_reached || (n == best_reached && mean < best_mean)) best_lr = lr, best_reached = n, best_mean = mean;
    }
    CAPTURE(act);
    CHECK(best["lr"] == best_lr);
    CHECK(best["reached_target"] == best_reached);
  }
  const ProcessResult t = run_gradflow(small({"-a", "tanh,relu", "--lr", "0.02,0.2", "--color", "never"}));
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("\ntanh lr 0.02  ") != std::string::npos);
  CHECK(t.out.find("each activation at its own best learning rate") != std::string::npos);
  CHECK(run_gradflow(small({"--lr", "0.1,0.1"})).err.find("--lr: a learning rate appears twice") != std::string::npos);
}

TEST_CASE("train --stop-at-target: a target the initial network meets stops at step 0, and one met later at its step") {
  // blobs at 256 samples: the initial tanh network already misclassifies fewer than 30%, so a
  // target of 0.3 holds at step 0 (this used to crash: the last record read update norms that no
  // step had computed); 0.1 takes a few steps.
  for (const std::string target : {"0.3", "0.1"}) {
    CAPTURE(target);
    const ProcessResult r = run_gradflow({"train", "-a", "tanh", "-d", "2", "-w", "32", "-b", "32", "--data", "blobs",
                                          "--n-train", "256", "--eval-batch", "256", "--steps", "200", "--target-error",
                                          target, "--stop-at-target", "--format", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json run = json::parse(r.out)["runs"][0];
    REQUIRE(run["steps_to_target"].is_number());
    const json& last = run["log"].back();
    CHECK(last["step"] == run["steps_to_target"]);
    CHECK(last["train_error"].get<double>() <= std::stod(target));
    CHECK(run["end"] == "stopped_at_target");
    if (target == "0.3") CHECK(run["log"].size() == 1);
    else CHECK(run["steps_to_target"].get<int>() > 0);
  }
}
