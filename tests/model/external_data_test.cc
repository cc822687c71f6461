// Initializers in external data files (model/external_data.h): a model saved that way reads as
// the same graph as the model with its weights inside, and a location that leads out of the
// model's directory, a short file or a wrong length is refused with the initializer named.
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <onnx/onnx_pb.h>

#include "base/errors.h"
#include "model/onnx_read.h"
#include "process.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

const std::string kFixtures = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fixtures/";

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void set_external(onnx::TensorProto& t, const std::string& location, std::size_t offset, std::size_t length) {
  t.set_data_location(onnx::TensorProto::EXTERNAL);
  t.clear_external_data();
  auto add = [&](const char* key, const std::string& value) {
    onnx::StringStringEntryProto* e = t.add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  add("length", std::to_string(length));
}

// mlp.onnx with every initializer's bytes moved to `dir`/weights.bin, as onnx.save(...,
// save_as_external_data=True, all_tensors_to_one_file=True) writes it; returns the model proto.
onnx::ModelProto externalise(const std::string& dir) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(test::read_file(kFixtures + "mlp.onnx")));
  std::string data;
  for (onnx::TensorProto& t : *m.mutable_graph()->mutable_initializer()) {
    REQUIRE(t.has_raw_data());
    data += std::string(3, '\0');  // padding: offsets need not start where the last tensor ended
    set_external(t, "weights.bin", data.size(), t.raw_data().size());
    data += t.raw_data();
    t.clear_raw_data();
  }
  write(dir + "/weights.bin", data);
  return m;
}

std::string refusal(const std::string& path) {
  return error_of([&] { read_onnx_file(path); });
}

}  // namespace

TEST_CASE("external data: the same initializers as the model with its weights inside") {
  const std::string dir = test::temp_dir();
  write(dir + "/m.onnx", externalise(dir).SerializeAsString());
  const OnnxGraph inside = read_onnx_file(kFixtures + "mlp.onnx");
  const OnnxGraph outside = read_onnx_file(dir + "/m.onnx");
  REQUIRE(inside.initializers.size() == outside.initializers.size());
  for (const auto& [name, t] : inside.initializers) {
    CAPTURE(name);
    REQUIRE(outside.initializers.count(name) == 1);
    CHECK(outside.initializers.at(name).dims == t.dims);
    CHECK(outside.initializers.at(name).values == t.values);
  }
  // The same bytes handed over without a file have no directory to read from.
  CHECK_THROWS_WITH_AS(parse_onnx(test::read_file(dir + "/m.onnx"), "m.onnx"),
                       doctest::Contains("read only beside a model file on disk"), UsageError);
}

TEST_CASE("external data: locations out of the model's directory, short files and wrong lengths are refused") {
  const std::string outside = test::temp_dir();
  write(outside + "/secret.bin", std::string(4096, 'x'));
  const std::string dir = test::temp_dir();
  onnx::ModelProto m = externalise(dir);
  onnx::TensorProto& first = *m.mutable_graph()->mutable_initializer(0);
  const std::size_t bytes = std::stoul(first.external_data(2).value());
  auto refused = [&](const std::string& location, std::size_t offset, std::size_t length) {
    set_external(first, location, offset, length);
    write(dir + "/m.onnx", m.SerializeAsString());
    return refusal(dir + "/m.onnx");
  };
  CHECK(refused("../" + std::filesystem::path(outside).filename().string() + "/secret.bin", 0, bytes)
            .find("leads out of the model's directory") != std::string::npos);
  CHECK(refused(outside + "/secret.bin", 0, bytes).find("is an absolute path") != std::string::npos);
  std::filesystem::create_symlink(outside + "/secret.bin", dir + "/link.bin");
  CHECK(refused("link.bin", 0, bytes).find("outside the model's directory") != std::string::npos);
  std::filesystem::create_directory(dir + "/sub");
  CHECK(refused("sub", 0, bytes).find("not a regular file") != std::string::npos);
  CHECK(refused("missing.bin", 0, bytes).find("cannot read its external data file 'missing.bin'") != std::string::npos);
  const auto size = std::filesystem::file_size(dir + "/weights.bin");
  CHECK(refused("weights.bin", size - bytes + 1, bytes).find("the tensor needs") != std::string::npos);
  CHECK(refused("weights.bin", size + 100, bytes).find("the tensor needs") != std::string::npos);
  const std::string wrong = refused("weights.bin", 0, bytes + 4);
  CHECK(wrong.find("initializer '" + first.name() + "'") != std::string::npos);
  CHECK(wrong.find("its shape needs " + std::to_string(bytes)) != std::string::npos);
  first.mutable_external_data(1)->set_value("-8");
  write(dir + "/m.onnx", m.SerializeAsString());
  CHECK(refusal(dir + "/m.onnx").find("offset '-8' is not a whole number") != std::string::npos);
  // A directory of its own inside the model's, reached by a relative path, is fine.
  std::filesystem::copy_file(dir + "/weights.bin", dir + "/sub/w.bin");
  onnx::ModelProto ok = externalise(dir);
  for (onnx::TensorProto& t : *ok.mutable_graph()->mutable_initializer()) t.mutable_external_data(0)->set_value("sub/w.bin");
  write(dir + "/ok.onnx", ok.SerializeAsString());
  CHECK(refusal(dir + "/ok.onnx").empty());
}

TEST_CASE("external data: analyze --model with a relative path reads the data beside it") {
  const std::string dir = test::temp_dir();
  write(dir + "/m.onnx", externalise(dir).SerializeAsString());
  const std::vector<std::string> rest = {"--data", kFixtures + "batch.csv", "--label-col", "y", "-b", "32",
                                         "--dtype", "f64", "--format", "csv"};
  std::vector<std::string> relative = {"analyze", "--model", "m.onnx"};
  relative.insert(relative.end(), rest.begin(), rest.end());
  test::ProcessOptions in_dir;
  in_dir.cwd = dir;
  const test::ProcessResult ext = test::run_gradflow(relative, in_dir);
  std::vector<std::string> fixture = {"analyze", "--model", kFixtures + "mlp.onnx"};
  fixture.insert(fixture.end(), rest.begin(), rest.end());
  const test::ProcessResult inside = test::run_gradflow(fixture);
  REQUIRE(ext.exit_code == 0);
  REQUIRE(inside.exit_code == 0);
  // The CSV names the model file in each row; past that, the same numbers.
  auto numbers = [](std::string csv, const std::string& model) {
    for (std::size_t at; (at = csv.find(model)) != std::string::npos;) csv.replace(at, model.size(), "M");
    return csv;
  };
  CHECK(numbers(ext.out, "m.onnx") == numbers(inside.out, kFixtures + "mlp.onnx"));
}

TEST_CASE("--max-memory bounds what reading a model may hold: the file and its external data, before reading") {
  const std::string dir = test::temp_dir();
  write(dir + "/m.onnx", externalise(dir).SerializeAsString());
  const auto size = std::filesystem::file_size(dir + "/m.onnx");
  CHECK_NOTHROW(read_onnx_file(dir + "/m.onnx", kReadBytesPerByte * (size + 4096)));
  // Room for the file, not for its first weight (16 x 6 f32: 384 bytes).
  CHECK_THROWS_WITH_AS(read_onnx_file(dir + "/m.onnx", kReadBytesPerByte * (size + 100)),
                       doctest::Contains("the model's external data passes 100 bytes"), UsageError);
  CHECK_THROWS_WITH_AS(read_onnx_file(dir + "/m.onnx", kReadBytesPerByte * size - 1),
                       doctest::Contains("more than --max-memory"), UsageError);
  const test::ProcessResult r =
      test::run_gradflow({"analyze", "--model", kFixtures + "mlp.onnx", "--max-memory", "1K"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--model: '" + kFixtures + "mlp.onnx': ") != std::string::npos);
  CHECK(r.err.find("more than --max-memory 1.0 KiB") != std::string::npos);
}

TEST_CASE("external data: a baseline of the model notices new weights in its data file (exit 2)") {
  const std::string dir = test::temp_dir();
  write(dir + "/m.onnx", externalise(dir).SerializeAsString());
  const test::ProcessResult saved =
      test::run_gradflow({"check", "--model", dir + "/m.onnx", "--data", kFixtures + "batch.csv", "--label-col", "y",
                          "-b", "16", "--rule", "loss >= 0", "--save-baseline", dir + "/b.json"});
  REQUIRE(saved.exit_code == 0);
  CHECK(test::run_gradflow({"check", "--baseline", dir + "/b.json"}).exit_code == 0);
  std::string weights = test::read_file(dir + "/weights.bin");
  weights[10] = static_cast<char>(weights[10] ^ 0x40);  // one weight's bits; the model file is unchanged
  write(dir + "/weights.bin", weights);
  const test::ProcessResult replay = test::run_gradflow({"check", "--baseline", dir + "/b.json"});
  CHECK(replay.exit_code == 2);
  CHECK(replay.err.find("--model '" + dir + "/m.onnx': its content changed since the baseline was saved") !=
        std::string::npos);
}

TEST_CASE("external data: each file read once, whole; the model's hash over its bytes, then each file's in first-read order") {
  const std::string dir = test::temp_dir();
  onnx::ModelProto m = externalise(dir);
  const std::string weights = test::read_file(dir + "/weights.bin");
  // The first initializer from a file of its own, with bytes no tensor reads after it: read
  // first, so hashed first, and whole.
  onnx::TensorProto& first = *m.mutable_graph()->mutable_initializer(0);
  const std::size_t offset = std::stoul(first.external_data(1).value()), bytes = std::stoul(first.external_data(2).value());
  const std::string own = weights.substr(offset, bytes) + "not a tensor";
  write(dir + "/first.bin", own);
  set_external(first, "first.bin", 0, bytes);
  const std::string model = m.SerializeAsString();
  write(dir + "/m.onnx", model);

  const OnnxGraph g = read_onnx_file(dir + "/m.onnx");
  CHECK(g.external_files == std::vector<std::string>{dir + "/first.bin", dir + "/weights.bin"});
  // FNV-1a 64 written out here, over the bytes in the order the reader met them.
  auto fnv = [](std::uint64_t h, const std::string& b) {
    for (const char ch : b) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    return h;
  };
  const std::uint64_t basis = 0xcbf29ce484222325ULL;
  CHECK(g.bytes_fnv1a64 == fnv(basis, model));
  CHECK(g.content_fnv1a64 == fnv(fnv(fnv(basis, model), own), weights));
  CHECK(g.content_fnv1a64 != fnv(fnv(fnv(basis, model), weights), own));  // the order counts
  const OnnxGraph inside = read_onnx_file(kFixtures + "mlp.onnx");
  for (const auto& [name, t] : inside.initializers) {
    CAPTURE(name);
    CHECK(g.initializers.at(name).values == t.values);
  }
  // Without external data the content is the model's bytes.
  CHECK(inside.content_fnv1a64 == inside.bytes_fnv1a64);
  CHECK(inside.content_fnv1a64 == fnv(basis, test::read_file(kFixtures + "mlp.onnx")));
}
