// The real binary: exit codes, messages, output formats, config files.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/metrics.h"
#include "core/stats.h"
#include "core/summary.h"
#include "process.h"
#include "usage_error.h"

using namespace gf;
using namespace gf::test;

namespace {

const std::vector<std::string> kSmall = {"-d", "4", "-w", "16", "-b", "8"};

std::vector<std::string> with_small(std::vector<std::string> args) {
  args.insert(args.end(), kSmall.begin(), kSmall.end());
  return args;
}

ProcessOptions env_options(std::map<std::string, std::string> env) {
  ProcessOptions o;
  o.env = std::move(env);
  return o;
}

ProcessOptions closed_stdout() {
  ProcessOptions o;
  o.close_stdout_early = true;
  return o;
}

std::string quoted(const std::string& v) { return "'" + v + "'"; }

}  // namespace

TEST_CASE("bad flags: exit 2, one line naming the flag, the value and what is allowed") {
  check_usage_error({"analyze", "-a", "tahn"}, {"--activation", "'tahn'", "did you mean 'tanh'", "sigmoid"});
  check_usage_error({"analyze", "-a", "relu,sigmod"}, {"--activation", "'sigmod'", "did you mean 'sigmoid'"});
  check_usage_error({"analyze", "--init", "he_norml"}, {"--init", "'he_norml'", "did you mean 'he_normal'"});
  for (const char* v : {"0", "-3", "abc", "2.5"})
    check_usage_error({"analyze", "--depth", v}, {"--depth", quoted(v), "whole number from 1"});
  check_usage_error({"analyze", "-w", "0"}, {"--width", "'0'", "whole number"});
  check_usage_error({"analyze", "-w", "64,x"}, {"--width", "'x'"});
  check_usage_error({"analyze", "-b", "0"}, {"--batch", "'0'"});
  check_usage_error({"analyze", "-b", "many"}, {"--batch", "'many'"});
  check_usage_error({"analyze", "-d", "3", "-w", "10,20"}, {"--width has 2 values", "--depth is 3"});
  for (const char* v : {"0", "1", "1.5", "-0.1"})
    check_usage_error({"analyze", "--sat-eps", v}, {"--sat-eps", quoted(v), "(0, 1)"});
  check_usage_error({"analyze", "--format", "xml"}, {"--format", "'xml'", "table, json, csv"});
  check_usage_error({"analyze", "--input", "positve"}, {"--input", "did you mean 'positive'"});
  check_usage_error({"analyze", "--dtype", "f16"}, {"--dtype", "'f16'", "f32, f64"});
  check_usage_error({"analyze", "--sigma-w2", "2", "--weight-std", "0.1"}, {"--sigma-w2", "--weight-std"});
  check_usage_error({"analyze", "--init", "he_normal", "--sigma-w2", "2"}, {"--init he_normal", "--sigma-w2"});
  check_usage_error({"analyze", "--max-memory", "lots"}, {"--max-memory", "'lots'"});
  check_usage_error({"analyze", "--bias-init", "abc"}, {"--bias-init", "'abc'", "give a number"});
  check_usage_error({"analyze", "--sigma-w2", "0"}, {"--sigma-w2", "'0'", "above 0"});
  check_usage_error({"analyze", "--bogus"}, {"analyze has no option '--bogus'", "'gradflow analyze --help'"});
  check_usage_error({"frobnicate"}, {"unknown command 'frobnicate'", "analyze, sweep"});
}

TEST_CASE("an unknown flag or command, a missing or repeated value: said in plain words") {
  check_usage_error({"analyze", "--dpeth", "5"},
                    {"analyze has no option '--dpeth' (did you mean '--depth'?)", "run 'gradflow analyze --help'"});
  check_usage_error({"analyze", "--widht=5"}, {"'--widht'", "did you mean '--width'"});
  check_usage_error({"train", "--lrr", "0.1"}, {"train has no option '--lrr'", "did you mean '--lr'"});
  check_usage_error({"sweep", "--seeds", "0:3"}, {"sweep has no option '--seeds'", "did you mean '--seed'"});
  check_usage_error({"analyze", "foo"}, {"unexpected argument 'foo' for analyze", "'gradflow analyze --help'"});
  check_usage_error({"analyse"}, {"unknown command 'analyse' (did you mean 'analyze'?)", "'gradflow --help'"});
  check_usage_error({"--bogus"}, {"unknown option '--bogus'", "'gradflow --help' for the commands"});
  check_usage_error({"analyze", "--depth"}, {"--depth needs a value (L)"});
  check_usage_error({"check", "--baseline"}, {"--baseline needs a value (FILE)"});
  check_usage_error({"analyze", "--format", "json", "--format", "csv"}, {"--format was given 2 times; give it once"});
  // One-letter flags are all one edit apart: no guess.
  const ProcessResult r = run_gradflow({"analyze", "-x"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("analyze has no option '-x'") != std::string::npos);
  CHECK(r.err.find("did you mean") == std::string::npos);
}

TEST_CASE("a network beyond --max-memory is refused with the estimate") {
  check_usage_error({"analyze", "-d", "20", "-w", "4096", "--max-memory", "100M"},
                    {"needs about", "GiB", "--max-memory is 100.0 MiB"});
  // Weights alone would not fit, but regenerating them does: it runs.
  const ProcessResult r = run_gradflow({"analyze", "-a", "relu", "-d", "8", "-w", "1024", "-b", "4",
                                        "--max-memory", "20M", "--format", "json"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("config files: errors name the file, line and column, or the unknown key") {
  const std::string dir = temp_dir();
  write_file(dir + "/bad.json", "{\n  \"depth\": 5,\n  \"width\" 64\n}\n");
  check_usage_error({"analyze", "--config", dir + "/bad.json"}, {"--config", "bad.json", "line 3", "column"});
  write_file(dir + "/key.json", R"({"dpeth": 5})");
  check_usage_error({"analyze", "--config", dir + "/key.json"}, {"unknown key 'dpeth'", "did you mean 'depth'"});
  write_file(dir + "/val.json", R"({"depth": 0})");
  check_usage_error({"analyze", "--config", dir + "/val.json"}, {"val.json", "--depth", "'0'"});
  write_file(dir + "/arr.json", R"([1, 2])");
  check_usage_error({"analyze", "--config", dir + "/arr.json"}, {"JSON object"});
  check_usage_error({"analyze", "--config", dir + "/missing.json"}, {"--config", "missing.json", "No such file"});
}

TEST_CASE("command-line flags override the config file; the file overrides defaults") {
  const std::string dir = temp_dir();
  write_file(dir + "/c.json", R"({"description": "test", "activation": ["tanh", "relu"], "depth": 7,
                                  "width": 16, "batch": 8, "loss": "mse", "sigma-b2": 0.1})");
  const ProcessResult r = run_gradflow({"analyze", "--config", dir + "/c.json", "--depth", "3", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["config"]["depth"] == 3);                                       // flag
  CHECK(doc["config"]["activation"] == nlohmann::json{"tanh", "relu"});   // file
  CHECK(doc["config"]["loss"] == "mse");                                    // file
  CHECK(doc["config"]["sigma-b2"] == 0.1);
  CHECK(doc["config"]["classes"] == 10);                                    // default
  CHECK(doc["runs"].size() == 2);
  CHECK(doc["runs"][0]["layers"].size() == 3);
}

TEST_CASE("a document's config block reproduces it when fed back with --config") {
  const std::string dir = temp_dir();
  const ProcessResult first = run_gradflow(with_small({"analyze", "-a", "gelu", "--sigma-b2", "0.05", "--format", "json"}));
  REQUIRE(first.exit_code == 0);
  write_file(dir + "/cfg.json", nlohmann::json::parse(first.out)["config"].dump());
  const ProcessResult again = run_gradflow({"analyze", "--config", dir + "/cfg.json", "--format", "json"});
  REQUIRE(again.exit_code == 0);
  CHECK(again.out == first.out);
}

TEST_CASE("JSON carries every documented key, and no NaN") {
  const ProcessResult r = run_gradflow(with_small({"analyze", "--format", "json"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("NaN") == std::string::npos);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["tool"] == "gradflow");
  for (const char* k : {"git_sha", "build_type", "compiler", "dtype"}) CHECK(doc["context"].contains(k));
  REQUIRE(doc["runs"].size() == 3);
  for (const auto& run : doc["runs"]) {
    for (const char* k : {"activation", "init", "finite", "summary", "layers"}) CHECK(run.contains(k));
    for (const SummaryMetric& m : summary_metrics()) CHECK(run["summary"].contains(std::string(m.key)));
    CHECK(run["summary"]["verdict"].size() >= 1);
    CHECK(run["summary"]["sentences"].size() == run["summary"]["verdict"].size());
    REQUIRE(run["layers"].size() == 4);
    for (const auto& layer : run["layers"]) {
      for (const char* k : {"layer", "fan_in", "width"}) CHECK(layer.contains(k));
      for (const LayerMetric& m : layer_metrics()) {
        CAPTURE(m.key);
        if (m.key == "norm_grad_ratio_log10") CHECK(layer[std::string(m.key)].is_null());  // no --norm here
        else CHECK(layer[std::string(m.key)].is_number());
      }
    }
  }
  CHECK(doc["runs"][2]["init"] == "he_normal");
  // With a norm, the ratio across it too.
  const ProcessResult normed = run_gradflow(with_small({"analyze", "--norm", "layer", "--format", "json"}));
  REQUIRE(normed.exit_code == 0);
  const nlohmann::json normed_doc = nlohmann::json::parse(normed.out);  // named: a loop over a temporary's member dangles
  for (const auto& run : normed_doc["runs"])
    for (const auto& layer : run["layers"]) CHECK(layer["norm_grad_ratio_log10"].is_number());
}

TEST_CASE("an overflow is explicit in JSON: null values and the layer that overflowed") {
  const ProcessResult r = run_gradflow({"analyze", "-a", "relu", "--sigma-w2", "1e6", "-d", "30",
                                        "-w", "16", "-b", "4", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto run = nlohmann::json::parse(r.out)["runs"][0];
  CHECK(run["finite"] == false);
  CHECK(run["overflow_layer"].is_number());
  CHECK(run["layers"][29]["grad_weight_log10"].is_null());
  CHECK(run["summary"]["verdict"][0] == "exploding");
}

TEST_CASE("CSV: a header and one row per activation and layer") {
  const ProcessResult r = run_gradflow(with_small({"analyze", "-a", "tanh,relu", "--format", "csv"}));
  REQUIRE(r.exit_code == 0);
  std::string header = "activation,init,layer,fan_in,width";
  for (const LayerMetric& m : layer_metrics()) header += "," + std::string(m.key);
  CHECK(r.out.substr(0, r.out.find('\n')) == header);
  CHECK(count_lines(r.out) == 1 + 2 * 4);
  CHECK(r.out.find("\nrelu,he_normal,4,16,16,") != std::string::npos);
}

TEST_CASE("the default run tells the founding story") {
  const ProcessResult r = run_gradflow({}, env_options({{"NO_COLOR", "1"}}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("\x1b[") == std::string::npos);  // not a terminal: no colour
  CHECK(std::regex_search(r.out, std::regex(R"(\n\s+1\s+-\d+\.\d\d)")));  // layer 1, sigmoid far below 0
  CHECK(std::regex_search(r.out, std::regex(R"(\nsigmoid: the first layer's gradient is 10\^-\d+\.\d of the last layer's \(x0\.\d\d per layer\): vanishing\n)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\ntanh: .*: healthy\n)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\nrelu: [\d.]+% of hidden units are dead .*: dead units\n)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\nsigmoid: activations average 0\.5\d .*: not zero-centred\n)")));
}

TEST_CASE("one activation: the detailed table; --color always colours, NO_COLOR wins over auto") {
  const ProcessResult r = run_gradflow(with_small({"analyze", "-a", "tanh", "--color", "always"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("log|dW|") != std::string::npos);
  CHECK(r.out.find("\x1b[") != std::string::npos);
  const ProcessResult deep = run_gradflow({"analyze", "-a", "tanh", "-d", "60", "-w", "8", "-b", "4"});
  CHECK(deep.out.find("(25 of 60 layers shown") != std::string::npos);
  const ProcessResult all = run_gradflow({"analyze", "-a", "tanh", "-d", "60", "-w", "8", "-b", "4", "--all-layers"});
  CHECK(all.out.find("layers shown") == std::string::npos);
}

TEST_CASE("-o writes the file atomically; an unwritable path fails before any work") {
  const std::string dir = temp_dir();
  const ProcessResult ok = run_gradflow(with_small({"analyze", "--format", "json", "-o", dir + "/r.json"}));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.empty());
  CHECK(nlohmann::json::parse(read_file(dir + "/r.json"))["runs"].size() == 3);
  check_usage_error(with_small({"analyze", "-o", dir + "/no/such/dir/r.json"}), {"--output", "no/such/dir/r.json", "No such file"});
  check_usage_error(with_small({"analyze", "-o", dir}), {"--output", "is a directory"});
  // A usage error leaves no file behind, not even a temporary one.
  check_usage_error({"analyze", "-d", "0", "-o", dir + "/never.json"}, {"--depth"});
  CHECK(!file_exists(dir + "/never.json"));
  const ProcessResult ls = run_process({"/bin/sh", "-c", "ls " + dir});
  CHECK(ls.out == "r.json\n");
}

TEST_CASE("a closed stdout pipe ends quietly") {
  const ProcessResult r = run_gradflow(with_small({"analyze"}), closed_stdout());
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("help, version and list exit 0 and teach") {
  const ProcessResult help = run_gradflow({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("analyze") != std::string::npos);
  CHECK(help.out.find("Exit codes") != std::string::npos);
  const ProcessResult ahelp = run_gradflow({"analyze", "--help"});
  CHECK(ahelp.exit_code == 0);
  for (const char* s : {"--activation", "leaky_relu", "he_normal", "L=20", "--sat-eps", "Examples:"})
    CHECK(ahelp.out.find(s) != std::string::npos);
  const ProcessResult version = run_gradflow({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("gradflow 0.", 0) == 0);
  const ProcessResult list = run_gradflow({"list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("softsign") != std::string::npos);
  CHECK(list.out.find("orthogonal") != std::string::npos);
  const ProcessResult list_json = run_gradflow({"list", "--format", "json"});
  CHECK(nlohmann::json::parse(list_json.out)["activations"].size() == 12);
}

TEST_CASE("SIGINT during a long analysis exits 130 and leaves no output file") {
  const std::string dir = temp_dir();
  const ProcessResult r = run_process(
      {"/bin/sh", "-c",
       std::string(GRADFLOW_BINARY) + " analyze -a relu -d 3000 -w 512 -b 64 -j 1 -o " + dir +
           "/out.txt & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo \"exit=$?\""});
  CHECK(r.out.find("exit=130") != std::string::npos);
  CHECK(r.err.find("gradflow: error: interrupted") != std::string::npos);
  const ProcessResult ls = run_process({"/bin/sh", "-c", "ls -A " + dir});
  CHECK(ls.out.empty());
}
