// Each input file read once (config/model_options, config/settings): the --data batch's hash is
// of the bytes its rows were parsed from, and a baseline's recorded model, data and --arch files,
// read to check their hashes, are what the replay's config is resolved from (the files gone from
// disk after the check, the config still resolves, to the same network, batch and hashes).
// Hashes are checked against an independent FNV-1a of the files and against the values gradflow
// e5a489c (which hashed --data by reading the file a second time) recorded for the fixtures.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>
#include <future>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/errors.h"
#include "config/model_options.h"
#include "config/settings.h"
#include "core/given_network.h"
#include "core/run_json.h"
#include "fnv_reference.h"
#include "process.h"

using namespace gf;
using json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";


// The writing end of the pipe `path`, opened once a reader has opened it (a reader then waits in
// its read for what is written), or -1 after `seconds` without one.
int open_pipe_for_writing(const std::string& path, int seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO while no reader has it open
    if (fd >= 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

void write_all(int fd, const std::string& text) {
  for (std::size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    REQUIRE(n > 0);
    at += static_cast<std::size_t>(n);
  }
}

// The config of --model `model` --data `csv`, resolved by a reader of its own sharing `files`.
AnalysisConfig resolve_shared(const std::shared_ptr<SharedFiles>& files, const std::string& model,
                              const std::string& csv) {
  SettingsReader reader(files);
  reader.apply({{"model", model}, {"data", csv}, {"label-col", "y"}, {"batch", "8"}});
  return reader.resolved();
}

// A per-layer-width network the flags cannot say, so its document records the file.
const char* const kArch =
    R"({"layers": [{"width": 12, "activation": "tanh"}, {"width": 7, "activation": "relu", "norm": "layer"}]})";

}  // namespace

TEST_CASE("--data: the recorded hash is of the bytes parsed, equal to an independent FNV-1a and to gradflow e5a489c's") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  test::write_file(data, test::read_file(kFixtures + "batch.csv"));
  const AnalysisConfig c =
      config_from_json(json{{"model", model}, {"data", data}, {"label-col", "y"}, {"batch", 8}}, "test");
  REQUIRE(c.data);
  CHECK(c.data_fnv1a64 == independent_fnv(test::read_file(data)));
  CHECK(c.model_fnv1a64 == independent_fnv(test::read_file(model)));
  // Recorded by gradflow e5a489c: `analyze --model tests/fixtures/mlp.onnx --data
  // tests/fixtures/batch.csv --label-col y -b 8 --format json`, config.data-fnv1a64 and model-fnv1a64.
  CHECK(fmt::format("{:016x}", c.data_fnv1a64) == "a861fdd09bd5e9cd");
  CHECK(fmt::format("{:016x}", c.model_fnv1a64) == "96e1a8fdf9ee0bfe");
}

TEST_CASE("a baseline's model and data files: read once by the hash check, the replay resolved from those bytes") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  test::write_file(data, test::read_file(kFixtures + "batch.csv"));
  const json network = {{"model", model}, {"data", data}, {"label-col", "y"}, {"batch", 8}};
  const AnalysisConfig first = config_from_json(network, "test");
  const nlohmann::ordered_json recorded = config_json(first);
  REQUIRE(recorded.contains("model-fnv1a64"));
  REQUIRE(recorded.contains("data-fnv1a64"));

  ModelFiles read = check_recorded_files(recorded, "--baseline b.json");
  REQUIRE(read.graphs.count(model) == 1);
  CHECK(read.graphs.at(model).second == first.model_fnv1a64);
  CHECK(read.graphs.at(model).first.bytes_fnv1a64 == independent_fnv(test::read_file(model)));
  REQUIRE(read.texts.count(data) == 1);
  CHECK(read.texts.at(data) == test::read_file(data));

  // Gone from disk: the replay's config comes from what the check read, not from the files.
  REQUIRE(std::remove(model.c_str()) == 0);
  REQUIRE(std::remove(data.c_str()) == 0);
  const AnalysisConfig replay = config_from_json(network, "config", std::move(read));
  CHECK(replay.model_fnv1a64 == first.model_fnv1a64);
  CHECK(replay.data_fnv1a64 == first.data_fnv1a64);
  REQUIRE(replay.data);
  CHECK(replay.data->x == first.data->x);
  CHECK(replay.data->labels == first.data->labels);
  CHECK(replay.widths() == first.widths());
  REQUIRE(replay.model);
  CHECK(replay.model->ops.size() == first.model->ops.size());
  CHECK(replay.model->names == first.model->names);
  CHECK(replay.model->W == first.model->W);
  CHECK(replay.model->b == first.model->b);
  // Without them, the files are read: and they are gone.
  CHECK_THROWS_AS(config_from_json(network, "config"), UsageError);
}

TEST_CASE("a baseline's changed or missing files: the messages name the file and both hashes") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  const std::string csv = test::read_file(kFixtures + "batch.csv");
  test::write_file(data, csv);
  const nlohmann::ordered_json recorded =
      config_json(config_from_json(json{{"model", model}, {"data", data}, {"label-col", "y"}, {"batch", 8}}, "test"));
  // One more row: the file is no longer the one recorded, though it still parses.
  const std::string grown = csv + csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n'));
  test::write_file(data, grown);
  CHECK_THROWS_WITH_AS(
      check_recorded_files(recorded, "--baseline b.json"),
      fmt::format("--baseline b.json: --data '{}': its content changed since the baseline was saved (FNV-1a 64 {} "
                  "then, {:016x} now): restore the file, or save the baseline again",
                  data, recorded["data-fnv1a64"].get<std::string>(), independent_fnv(grown))
          .c_str(),
      UsageError);
  REQUIRE(std::remove(data.c_str()) == 0);
  CHECK_THROWS_WITH_AS(check_recorded_files(recorded, "--baseline b.json"),
                       fmt::format("--baseline b.json: --data: '{}' cannot be read: No such file or directory", data)
                           .c_str(),
                       UsageError);
}

TEST_CASE("a baseline's --arch file: read once by the hash check, the replay parses those bytes") {
  const std::string dir = test::temp_dir(), arch = dir + "/net.json";
  test::write_file(arch, kArch);
  const json network = {{"arch", arch}, {"batch", 8}, {"init", "xavier_normal"}};
  const AnalysisConfig first = config_from_json(network, "test");
  REQUIRE(!first.arch_ops.empty());
  CHECK(first.arch_fnv1a64 == independent_fnv(kArch));
  const nlohmann::ordered_json recorded = config_json(first);
  REQUIRE(recorded.contains("arch-fnv1a64"));
  ModelFiles read = check_recorded_files(recorded, "--baseline b.json");
  REQUIRE(read.texts.count(arch) == 1);
  CHECK(read.texts.at(arch) == kArch);
  REQUIRE(std::remove(arch.c_str()) == 0);
  const AnalysisConfig replay = config_from_json(network, "config", std::move(read));
  CHECK(replay.arch_fnv1a64 == first.arch_fnv1a64);
  CHECK(replay.widths() == first.widths());
  REQUIRE(replay.arch_ops.size() == first.arch_ops.size());
  CHECK(replay.arch_ops[1].norm == first.arch_ops[1].norm);
}

TEST_CASE("readers sharing the files: a run of one file resolves while another reader is still reading another") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", data = dir + "/b.csv", other = dir + "/c.csv",
                    pipe = dir + "/slow.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  const std::string csv = test::read_file(kFixtures + "batch.csv");
  test::write_file(data, csv);
  test::write_file(other, csv);
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  const auto files = std::make_shared<SharedFiles>();
  const AnalysisConfig first = resolve_shared(files, model, data);  // the model, mapped once
  // A run whose CSV is a pipe: its reader waits in the read until the pipe is written.
  auto slow = std::async(std::launch::async, [&] { return resolve_shared(files, model, pipe); });
  const int fd = open_pipe_for_writing(pipe, 30);
  REQUIRE(fd >= 0);
  // Meanwhile a run of another CSV, not read yet: it needs no other reader (the old code held
  // the files' mutex through every read, so it waited for the pipe).
  auto fast = std::async(std::launch::async, [&] { return resolve_shared(files, model, other); });
  const bool fast_alone = fast.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  write_all(fd, csv);  // either way, so that the slow reader ends
  ::close(fd);
  CHECK(fast_alone);
  const AnalysisConfig a = fast.get(), b = slow.get();
  for (const AnalysisConfig* c : {&a, &b}) {
    CHECK(c->model == first.model);  // one network for every run: the model read and mapped once
    REQUIRE(c->data);
    CHECK(c->data->x == first.data->x);
    CHECK(c->data_fnv1a64 == independent_fnv(csv));
  }
}

TEST_CASE("readers sharing the files, all at once: each file read and parsed once, every run on those bytes") {
  const std::string dir = test::temp_dir(), model = dir + "/m.onnx", pipe = dir + "/once.csv";
  test::write_file(model, test::read_file(kFixtures + "mlp.onnx"));
  const std::string csv = test::read_file(kFixtures + "batch.csv");
  // A pipe gives its bytes once: a second read of it would wait for a writer that never comes.
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  const auto files = std::make_shared<SharedFiles>();
  constexpr int kReaders = 6;
  std::vector<std::future<AnalysisConfig>> runs;
  for (int k = 0; k < kReaders; ++k)
    runs.push_back(std::async(std::launch::async, [&] { return resolve_shared(files, model, pipe); }));
  const int fd = open_pipe_for_writing(pipe, 30);
  REQUIRE(fd >= 0);
  write_all(fd, csv);
  ::close(fd);
  bool all = true;
  for (auto& r : runs) all = all && r.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  CHECK(all);
  // A reader that went back to the pipe: an empty write end lets it end (with an error).
  for (int tries = 0; !all && tries < 100; ++tries) {
    if (const int again = open_pipe_for_writing(pipe, 1); again >= 0) ::close(again);
    all = true;
    for (auto& r : runs) all = all && r.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready;
  }
  std::vector<AnalysisConfig> got;
  for (auto& r : runs) got.push_back(r.get());
  for (const AnalysisConfig& c : got) {
    CHECK(c.model == got.front().model);  // mapped once
    CHECK(c.data == got.front().data);    // parsed and cut once
    CHECK(c.data_fnv1a64 == independent_fnv(csv));
    CHECK(c.batch == 8);
  }
}

TEST_CASE("readers sharing the files: an --arch file read outside the lock, once, while others resolve") {
  const std::string dir = test::temp_dir(), arch = dir + "/net.json", pipe = dir + "/slow.json";
  test::write_file(arch, kArch);
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  const auto files = std::make_shared<SharedFiles>();
  auto resolve = [&files](const std::string& path) {
    return config_from_json(json{{"arch", path}, {"batch", 8}, {"init", "xavier_normal"}}, "test", files);
  };
  // Two readers of the pipe: one reads it, the other waits for that read (a second read of a
  // pipe would wait for a writer that never comes).
  auto slow = std::async(std::launch::async, [&] { return resolve(pipe); });
  auto slow_too = std::async(std::launch::async, [&] { return resolve(pipe); });
  const int fd = open_pipe_for_writing(pipe, 30);
  REQUIRE(fd >= 0);
  // Meanwhile another --arch file resolves: the old code held the files' mutex through the read.
  auto fast = std::async(std::launch::async, [&] { return resolve(arch); });
  const bool fast_alone = fast.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  write_all(fd, kArch);
  ::close(fd);
  CHECK(fast_alone);
  bool both = slow.wait_for(std::chrono::seconds(20)) == std::future_status::ready &&
              slow_too.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  for (int tries = 0; !both && tries < 100; ++tries) {  // a reader that went back to the pipe ends
    if (const int again = open_pipe_for_writing(pipe, 1); again >= 0) ::close(again);
    both = slow.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready &&
           slow_too.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready;
  }
  CHECK(both);
  const AnalysisConfig a = fast.get(), b = slow.get(), c = slow_too.get();
  for (const AnalysisConfig* x : {&b, &c}) {
    CHECK(x->arch_fnv1a64 == independent_fnv(kArch));
    CHECK(x->widths() == a.widths());
    CHECK(x->arch_ops.size() == a.arch_ops.size());
  }
}
