// Each input file read once per command (config/model_options.h's SharedFiles): a grid's --arch
// file by the check of the flag as it is read, and by no reader after it; its --data file once for
// every batch size; a baseline's files, as checked, also for check's current config. Each test
// replaces or removes the file after the first read: the runs still use the first bytes (the old
// code read the file again, and ran on the new bytes or failed). Hashes are checked against an
// FNV-1a written out here.
#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/errors.h"
#include "batch/baseline.h"
#include "batch/grid.h"
#include "config/model_options.h"
#include "config/settings.h"
#include "core/given_network.h"
#include "core/run_json.h"
#include "fnv_reference.h"
#include "process.h"

using namespace gf;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";


// GridOptions filled as `sweep` fills them: through CLI11, each flag's check run as it is read.
GridOptions parsed(CLI::App& app, const std::vector<std::string>& args) {
  GridOptions g;
  add_grid_options(app, g);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the arguments reversed
  app.parse(reversed);
  return g;
}

// A CSV of the fixture's header and its data rows in reverse order: the same shape, other rows.
std::string reversed_rows(const std::string& csv) {
  const std::size_t header = csv.find('\n') + 1;
  std::vector<std::string> rows;
  for (std::size_t at = header; at < csv.size();) {
    const std::size_t end = csv.find('\n', at);
    rows.push_back(csv.substr(at, end == std::string::npos ? std::string::npos : end - at + 1));
    at = end == std::string::npos ? csv.size() : end + 1;
  }
  std::string out = csv.substr(0, header);
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) out += it->back() == '\n' ? *it : *it + "\n";
  return out;
}

const char* const kArchA =
    R"({"layers": [{"width": 12, "activation": "tanh"}, {"width": 7, "activation": "relu", "norm": "layer"}]})";
const char* const kArchB =
    R"({"layers": [{"width": 9, "activation": "tanh"}, {"width": 3, "activation": "relu", "norm": "layer"}]})";

}  // namespace

TEST_CASE("a grid's --arch file: read once, as the flag is read; every run, on any thread, uses those bytes") {
  const std::string dir = test::temp_dir(), arch = dir + "/net.json";
  test::write_file(arch, kArchA);
  CLI::App app;
  const GridOptions g = parsed(app, {"--arch", arch, "--input-dim", "5", "-b", "8", "--seed", "0:3"});
  test::write_file(arch, kArchB);  // replaced after the flag was read
  const Grid grid(g, 100);
  REQUIRE(grid.size() == 4);
  std::vector<AnalysisConfig> configs(4);
  // Two threads resolving at once: two parsers, one read of the file between them.
  std::thread other([&] {
    configs[1] = grid.config(1);
    configs[3] = grid.config(3);
  });
  configs[0] = grid.config(0);
  configs[2] = grid.config(2);
  other.join();
  for (const AnalysisConfig& c : configs) {
    CHECK(c.arch_fnv1a64 == independent_fnv(kArchA));
    CHECK(c.widths() == std::vector<Index>{5, 12, 7});
  }
  // Gone from disk: another grid of the same command (check's current config) still has the bytes read.
  REQUIRE(std::remove(arch.c_str()) == 0);
  const Grid again(g, 100);
  CHECK(again.config(3).arch_fnv1a64 == independent_fnv(kArchA));
}

TEST_CASE("a grid's --arch file that cannot be read: the message as before (nothing kept, so no run uses it)") {
  CLI::App app;
  GridOptions g;
  add_grid_options(app, g);
  const std::string missing = test::temp_dir() + "/none.json";
  try {
    app.parse(std::vector<std::string>{missing, "--arch"});
    FAIL("parsed");
  } catch (const CLI::ValidationError& e) {
    CHECK(std::string(e.what()) == fmt::format("--arch: cannot read '{}': No such file or directory", missing));
  }
}

TEST_CASE("a sweep over batch sizes reads --data once: each batch is the first rows of the bytes read then") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  const std::string csv = test::read_file(kFixtures + "batch.csv");
  test::write_file(data, csv);
  CLI::App app;
  const GridOptions g = parsed(app, {"--model", model, "--data", data, "--label-col", "y", "--batch", "8,16"});
  const Grid grid(g, 100);
  REQUIRE(grid.size() == 2);
  const AnalysisConfig small = grid.config(0);
  test::write_file(data, reversed_rows(csv));  // other rows, after the first read
  const AnalysisConfig large = grid.config(1);
  REQUIRE(small.data);
  REQUIRE(large.data);
  CHECK(small.batch == 8);
  CHECK(large.batch == 16);
  CHECK(small.data_fnv1a64 == independent_fnv(csv));
  CHECK(large.data_fnv1a64 == independent_fnv(csv));
  // The first 8 rows of the 16 are the 8: both cut from the one parse of the original bytes.
  CHECK(large.data->x.topRows(8) == small.data->x);
  CHECK(std::vector<std::uint32_t>(large.data->labels.begin(), large.data->labels.begin() + 8) == small.data->labels);
  // And they are the file's first rows: a reader of the original bytes on its own agrees.
  const nlohmann::json network = {{"model", model}, {"label-col", "y"}, {"batch", 16}};
  test::write_file(data, csv);
  nlohmann::json with_data = network;
  with_data["data"] = data;
  const AnalysisConfig alone = config_from_json(with_data, "test");
  CHECK(alone.data->x == large.data->x);
  CHECK(alone.data->labels == large.data->labels);
}

TEST_CASE("check's current config after a baseline: the recorded files as checked, not read again") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv", arch = dir + "/a.json";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  test::write_file(data, test::read_file(kFixtures + "batch.csv"));
  const AnalysisConfig first =
      config_from_json(nlohmann::json{{"model", model}, {"data", data}, {"label-col", "y"}, {"batch", 8}}, "test");
  const nlohmann::ordered_json recorded = config_json(first);
  CLI::App app;
  const GridOptions flags = parsed(app, {"--seed", "3", "--batch", "16"});  // check --baseline B --seed 3 -b 16
  const AnalysisConfig replay = reproduce_config(recorded, "--baseline b.json", flags.files);
  CHECK(replay.model_fnv1a64 == first.model_fnv1a64);
  // Gone from disk after the check: the current config (the recorded files, a new seed and batch
  // size) is resolved from what the check read.
  REQUIRE(std::remove(model.c_str()) == 0);
  REQUIRE(std::remove(data.c_str()) == 0);
  GridOptions now = flags;
  for (const auto& [name, value] : {std::pair{"model", model}, std::pair{"data", data}, std::pair{"label-col", std::string("y")}}) {
    const auto at = std::find(now.names.begin(), now.names.end(), name);
    REQUIRE(at != now.names.end());
    now.given[static_cast<std::size_t>(at - now.names.begin())] = {value};
  }
  const AnalysisConfig current = Grid(now, 10).config(0);
  CHECK(current.seed == 3);
  CHECK(current.batch == 16);
  CHECK(current.model_fnv1a64 == first.model_fnv1a64);
  CHECK(current.data_fnv1a64 == independent_fnv(test::read_file(kFixtures + "batch.csv")));
  REQUIRE(current.model);
  CHECK(current.model->W == replay.model->W);
  CHECK(current.data->x.topRows(8) == replay.data->x);
}

TEST_CASE("check --baseline with another --bn-mode: the model as checked, mapped again from those bytes, not read again") {
  const std::string dir = test::temp_dir();
  // mlp_bn.onnx has BatchNormalizations (the mode changes the network); mlp.onnx has none.
  for (const std::string fixture : {"mlp_bn.onnx", "mlp.onnx"}) {
    CAPTURE(fixture);
    const std::string model = dir + "/" + fixture;
    test::write_file(model, test::read_file(kFixtures + fixture));
    const nlohmann::ordered_json recorded =
        config_json(config_from_json(nlohmann::json{{"model", model}, {"batch", 8}}, "test"));
    REQUIRE(recorded.value("bn-mode", "") == "running");
    CLI::App app;
    const GridOptions flags = parsed(app, {"--bn-mode", "batch"});  // check --baseline B --bn-mode batch
    const AnalysisConfig replay = reproduce_config(recorded, "--baseline b.json", flags.files);
    // Gone from disk after the check: the current config maps the bytes the check read.
    REQUIRE(std::remove(model.c_str()) == 0);
    GridOptions now = flags;
    const auto at = std::find(now.names.begin(), now.names.end(), "model");
    REQUIRE(at != now.names.end());
    now.given[static_cast<std::size_t>(at - now.names.begin())] = {model};
    const AnalysisConfig current = Grid(now, 10).config(0);
    CHECK(current.bn_mode == "batch");
    CHECK(current.model_fnv1a64 == replay.model_fnv1a64);
    CHECK(current.model_fnv1a64 == independent_fnv(test::read_file(kFixtures + fixture)));
    REQUIRE(current.model);
    CHECK(current.model->W == replay.model->W);
    // Each mode's norms as its own reading of the file (onnx_map.h): batch statistics, or the
    // running ones folded into a fixed affine map.
    const bool bn = fixture == "mlp_bn.onnx";
    CHECK(std::any_of(current.model->ops.begin(), current.model->ops.end(),
                      [](const LayerOp& op) { return op.norm == NormKind::batch; }) == bn);
    CHECK(std::any_of(replay.model->ops.begin(), replay.model->ops.end(),
                      [](const LayerOp& op) { return op.norm == NormKind::affine; }) == bn);
    // Both modes mapped: the parsed graph is not held any longer.
    const std::lock_guard<std::mutex> lock(flags.files->mutex);
    CHECK(flags.files->files.graphs.empty());
  }
}

TEST_CASE("a baseline's --arch file read already by check's flags: checked from those bytes, the message as before") {
  const std::string dir = test::temp_dir(), arch = dir + "/a.json";
  test::write_file(arch, kArchA);
  const nlohmann::ordered_json recorded =
      config_json(config_from_json(nlohmann::json{{"arch", arch}, {"input-dim", 5}, {"batch", 8}}, "test"));
  REQUIRE(recorded.contains("arch-fnv1a64"));
  {
    CLI::App app;
    const GridOptions flags = parsed(app, {"--arch", arch});  // read here: kArchA
    test::write_file(arch, kArchB);  // then changed on disk: the run would use kArchA, which is checked
    const AnalysisConfig replay = reproduce_config(recorded, "--baseline b.json", flags.files);
    CHECK(replay.arch_fnv1a64 == independent_fnv(kArchA));
    CHECK(replay.widths() == std::vector<Index>{5, 12, 7});
  }
  {
    CLI::App app;
    const GridOptions flags = parsed(app, {"--arch", arch});  // read here: kArchB, not what was recorded
    test::write_file(arch, kArchA);  // restored on disk: too late for this command, which uses kArchB
    CHECK_THROWS_WITH_AS(
        reproduce_config(recorded, "--baseline b.json", flags.files),
        fmt::format("--baseline b.json: --arch '{}': its content changed since the baseline was saved (FNV-1a 64 {} "
                    "then, {:016x} now): restore the file, or save the baseline again",
                    arch, recorded["arch-fnv1a64"].get<std::string>(), independent_fnv(kArchB))
            .c_str(),
        UsageError);
  }
}
