#include "batch/axis_values.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "process.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;
using Values = std::vector<std::string>;

namespace {

Values ints(const Values& items) { return axis_values("depth", AxisKind::integer, items, false, 100000); }
Values reals(const Values& items) { return axis_values("sigma-w2", AxisKind::real, items, false, 100000); }

std::string fmt_value(double v) {  // the shortest text that reads back as v
  char buf[64];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::stod(buf) == v) break;
  }
  return buf;
}

}  // namespace

TEST_CASE("lists and inclusive ranges, mixed, in the order given") {
  CHECK(ints({"5"}) == Values{"5"});
  CHECK(ints({"5,10,20"}) == Values{"5", "10", "20"});
  CHECK(ints({"5:20:5"}) == Values{"5", "10", "15", "20"});
  CHECK(ints({"0:3"}) == Values{"0", "1", "2", "3"});        // step 1 by default
  CHECK(ints({"5:50:10"}) == Values{"5", "15", "25", "35", "45"});  // stop only when on a step
  CHECK(ints({"1,5:15:5", "100"}) == Values{"1", "5", "10", "15", "100"});  // several occurrences add up
  CHECK(ints({"07"}) == Values{"7"});  // one spelling per number
  CHECK(axis_values("activation", AxisKind::text, {"tanh,relu"}, false, 100) == Values{"tanh", "relu"});
}

TEST_CASE("real ranges hit their end points without rounding noise") {
  CHECK(reals({"0:0.3:0.1"}) == Values{"0", "0.1", "0.2", "0.3"});
  CHECK(reals({"0.5:4:0.25"}).size() == 15);
  CHECK(reals({"0.5:4:0.25"}).back() == "4");
  CHECK(reals({"0.5:4:0.25"})[1] == "0.75");
  CHECK(reals({"1e-3,2.50"}) == Values{"0.001", "2.5"});
  CHECK(axis_values("bias-init", AxisKind::real, {"-0.5:0.5:0.25"}, false, 100) ==
        Values{"-0.5", "-0.25", "0", "0.25", "0.5"});
  // Every value parses back to start + k * step within a few ulp.
  const Values v = reals({"0.1:2.9:0.1"});
  REQUIRE(v.size() == 29);
  for (std::size_t k = 0; k < v.size(); ++k) CHECK(std::stod(v[k]) == doctest::Approx(0.1 + 0.1 * k).epsilon(1e-12));
}

TEST_CASE("fractions are numbers: 25/9 is the value, spelled once, in lists and ranges") {
  CHECK(reals({"25/9"}) == Values{fmt_value(25.0 / 9.0)});
  CHECK(reals({"1/2,5/3"}) == Values{"0.5", fmt_value(5.0 / 3.0)});
  CHECK(reals({"0:1:1/4"}) == Values{"0", "0.25", "0.5", "0.75", "1"});
  CHECK(error_of([] { reals({"1/2,0.5"}); }).find("the value 0.5 is given twice") != std::string::npos);
}

TEST_CASE("per-layer widths in brackets are one value") {
  CHECK(axis_values("width", AxisKind::integer, {"[64,32,16],8"}, true, 100) == Values{"64,32,16", "8"});
  CHECK(error_of([] { axis_values("depth", AxisKind::integer, {"[1,2]"}, false, 100); }).find("--width and --jacobian-depths only") !=
        std::string::npos);
  CHECK(error_of([] { axis_values("width", AxisKind::integer, {"[64,32"}, true, 100); }).find("unbalanced") !=
        std::string::npos);
}

TEST_CASE("bad ranges and lists are usage errors that name the flag and the value") {
  const std::string empty = error_of([] { ints({"5:1:1"}); });
  CHECK(empty.find("--depth") != std::string::npos);
  CHECK(empty.find("'5:1:1' is empty") != std::string::npos);
  CHECK(error_of([] { ints({"5:50:0"}); }).find("step 0: the step must be positive") != std::string::npos);
  CHECK(error_of([] { ints({"5:50:-5"}); }).find("the step must be positive") != std::string::npos);
  CHECK(error_of([] { ints({"0:9:2.5"}); }).find("step '2.5' is not a whole number") != std::string::npos);
  CHECK(error_of([] { ints({"1:2:3:4"}); }).find("is not a range") != std::string::npos);
  CHECK(error_of([] { reals({"1:x"}); }).find("stop 'x' is not a number") != std::string::npos);
  CHECK(error_of([] { reals({"2:1:0.5"}); }).find("is empty") != std::string::npos);
  CHECK(error_of([] { ints({"5,,6"}); }).find("empty value") != std::string::npos);
  CHECK(error_of([] { ints({"5,10,5"}); }).find("the value 5 is given twice") != std::string::npos);
  CHECK(error_of([] { axis_values("activation", AxisKind::text, {"tanh:relu"}, false, 100); })
            .find("takes names") != std::string::npos);
}

TEST_CASE("a range larger than the run limit is refused before it is expanded") {
  const std::string e = error_of([] { axis_values("seed", AxisKind::integer, {"0:9223372036854775806"}, false, 1000); });
  CHECK(e.find("more than the --max-runs limit of 1000") != std::string::npos);
  CHECK(axis_values("seed", AxisKind::integer, {"0:999"}, false, 1000).size() == 1000);
  // 2^64 values: the count itself would wrap to 0.
  CHECK(error_of([] { axis_values("seed", AxisKind::integer, {"-9223372036854775808:9223372036854775807"}, false, 1000); })
            .find("more than the --max-runs limit") != std::string::npos);
  CHECK_FALSE(error_of([] { axis_values("seed", AxisKind::integer, {"0:1000"}, false, 1000); }).empty());
}

TEST_CASE("a file axis: names with brackets, colons and commas are files, never ranges or per-layer lists") {
  const std::string d = gf::test::temp_dir();
  for (const char* name : {"run]1.onnx", "[2].onnx", "0:9", "my,model.onnx", "b.csv"}) gf::test::write_file(d + "/" + name, "x");
  auto files = [](const Values& items) { return axis_values("model", AxisKind::file, items, false, 100); };
  CHECK(files({d + "/run]1.onnx"}) == Values{d + "/run]1.onnx"});
  CHECK(files({d + "/0:9"}) == Values{d + "/0:9"});  // not the range 0..9
  CHECK(files({d + "/[2].onnx," + d + "/b.csv"}) == Values{d + "/[2].onnx", d + "/b.csv"});
  CHECK(files({d + "/my,model.onnx"}) == Values{d + "/my,model.onnx"});
  CHECK(files({d + "/my,,model.onnx," + d + "/b.csv"}) == Values{d + "/my,model.onnx", d + "/b.csv"});
  CHECK(axis_probe_values("model", AxisKind::file, d + "/run]1.onnx", false) == Values{d + "/run]1.onnx"});
  CHECK(error_of([&] { files({d + "/b.csv," + d + "/b.csv"}); }).find("is given twice") != std::string::npos);
  CHECK(error_of([&] { axis_values("model", AxisKind::file, {d + "/b.csv," + d + "/run]1.onnx"}, false, 1); })
            .find("more than the --max-runs limit of 1") != std::string::npos);
}
