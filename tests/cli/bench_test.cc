// `gradflow bench` and its helpers: well-formed measurements and output, never timing bounds
// (the machine is shared: see docs/performance.md for the figures).
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>

#include "base/reduce.h"
#include "base/timing.h"
#include "core/activation.h"
#include "core/activation_bench.h"
#include "core/rng.h"
#include "process.h"

using namespace gf;
using namespace gf::test;

TEST_CASE("quartiles_of: quartiles by linear interpolation between order statistics") {
  const Quartiles s = quartiles_of({5, 1, 4, 2, 3});
  CHECK(s.min == 1);
  CHECK(s.q1 == 2);
  CHECK(s.median == 3);
  CHECK(s.q3 == 4);
  CHECK(s.max == 5);
  const Quartiles e = quartiles_of({4, 1, 3, 2});  // numpy.percentile([1,2,3,4], [25,50,75])
  CHECK(e.q1 == doctest::Approx(1.75));
  CHECK(e.median == doctest::Approx(2.5));
  CHECK(e.q3 == doctest::Approx(3.25));
  CHECK(e.iqr() == doctest::Approx(1.5));
  CHECK(quartiles_of({7}).median == 7);
  CHECK(quartiles_of({}).median == 0);
}

TEST_CASE("lane sums and counts agree with plain loops, for every length") {
  std::vector<float> x(1000);
  fill_normal<float>({3, Stream::user, 0}, 0, x.data(), x.size(), 3.0f);
  for (Index n : {0, 1, 15, 16, 17, 31, 64, 999, 1000}) {
    CAPTURE(n);
    long double sum = 0, sq = 0;
    Index pos = 0;
    for (Index i = 0; i < n; ++i) {
      sum += x[i];
      sq += static_cast<long double>(x[i]) * x[i];
      pos += x[i] > 0;
    }
    CHECK(reduce::sum(x.data(), n) == doctest::Approx(static_cast<double>(sum)).epsilon(1e-12));
    CHECK(reduce::sum_squares(x.data(), n) == doctest::Approx(static_cast<double>(sq)).epsilon(1e-13));
    CHECK(reduce::count(x.data(), n, [](float v) { return v > 0; }) == pos);
  }
  // An exact case: 1..100 in any order sums to 5050, squares to 338350.
  std::vector<double> k(100);
  std::iota(k.begin(), k.end(), 1.0);
  CHECK(reduce::sum(k.data(), 100) == 5050);
  CHECK(reduce::sum_squares(k.data(), 100) == 338350);
}

TEST_CASE("run_activation_bench: every timing is positive and the ratios follow from them") {
  ActivationBenchConfig c;
  c.activations = {"tanh", "gelu", "relu"};
  c.size = 4096;
  c.repeat = 3;
  c.layer_batch = 8;
  c.layer_width = 100;  // a partial block
  c.threads = 2;
  const ActivationBenchResult r = run_activation_bench(c);
  REQUIRE(r.arrays.size() == 3);
  REQUIRE(r.layers.size() == 3);
  const ActivationTiming& relu = r.arrays[2];
  CHECK(relu.activation == "relu");
  CHECK(relu.forward.ratio_to_relu == 1.0);
  CHECK(relu.forward_derivative.ratio_to_relu == 1.0);
  for (const ActivationTiming& t : r.arrays) {
    CAPTURE(t.activation);
    for (const PassTiming* p : {&t.forward, &t.forward_derivative}) {
      const Quartiles& s = p->ns_per_element;
      CHECK(s.min > 0);
      CHECK(s.min <= s.q1);
      CHECK(s.q1 <= s.median);
      CHECK(s.median <= s.q3);
      CHECK(s.q3 <= s.max);
      CHECK(p->g_elements_per_s == doctest::Approx(1.0 / s.median));
    }
    CHECK(t.forward.ratio_to_relu ==
          doctest::Approx(t.forward.ns_per_element.median / relu.forward.ns_per_element.median));
  }
  for (const LayerTiming& l : r.layers) {
    CAPTURE(l.activation);
    CHECK(l.layer_ms.median > 0);
    CHECK(l.gemm_share == doctest::Approx(l.gemm_ms.median / l.layer_ms.median));
    CHECK(l.activation_share == doctest::Approx(l.activation_ms.median / l.layer_ms.median));
    CHECK(l.gemm_gflops == doctest::Approx(2.0 * 8 * 100 * 100 / (l.gemm_ms.median * 1e-3) / 1e9));
  }
}

TEST_CASE("run_activation_bench: no list means every activation; relu is timed as the reference") {
  ActivationBenchConfig c;
  c.size = 1024;
  c.repeat = 3;
  c.layer_batch = 4;
  c.layer_width = 16;
  c.dtype = Dtype::f64;
  const ActivationBenchResult all = run_activation_bench(c);
  CHECK(all.arrays.size() == activations().size());
  CHECK(all.config.activations == activation_names());
  c.activations = {"sigmoid"};
  const ActivationBenchResult one = run_activation_bench(c);
  REQUIRE(one.arrays.size() == 1);
  CHECK(one.arrays[0].forward.ratio_to_relu > 0);
  CHECK(std::isfinite(one.arrays[0].forward.ratio_to_relu));
}

namespace {
const std::vector<std::string> kQuick = {"--size", "4096", "--repeat", "3", "--layer-batch", "8",
                                         "--layer-width", "64"};
std::vector<std::string> bench_args(std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  args.insert(args.end(), kQuick.begin(), kQuick.end());
  return args;
}
}  // namespace

TEST_CASE("gradflow bench --format json: one document with every activation and the layer") {
  const ProcessResult r = run_gradflow(bench_args({"-a", "relu,sigmoid,gelu", "--format", "json"}));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["command"] == "bench");
  CHECK(doc["schema_version"] == 1);
  CHECK(doc["config"]["size"] == 4096);
  CHECK(doc["config"]["layer-width"] == 64);
  REQUIRE(doc["arrays"].size() == 3);
  REQUIRE(doc["layers"].size() == 3);
  const std::vector<std::string> names = {"relu", "sigmoid", "gelu"};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = doc["arrays"][i];
    CHECK(a["activation"] == names[i]);
    for (const char* pass : {"phi", "phi_and_derivative"}) {
      CHECK(a[pass]["ns_per_element"]["median"].get<double>() > 0);
      CHECK(a[pass]["g_elements_per_s"].get<double>() > 0);
      CHECK(a[pass]["ratio_to_relu"].get<double>() > 0);
    }
    const auto& l = doc["layers"][i];
    CHECK(l["activation"] == names[i]);
    for (const char* key : {"layer_ms", "gemm_ms", "activation_ms"}) CHECK(l[key]["median"].get<double>() > 0);
    CHECK(l["gemm_share"].get<double>() > 0);
    CHECK(l["activation_share"].get<double>() > 0);
  }
  CHECK(doc["arrays"][0]["phi"]["ratio_to_relu"] == 1.0);
}

TEST_CASE("gradflow bench table: a row per activation, the layer table and its conclusion") {
  const ProcessResult r = run_gradflow(bench_args({"-a", "tanh,relu"}));
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  const std::regex array_row(R"(\n  tanh +[0-9.]+ \([0-9.]+\) +[0-9.]+ +[0-9.]+ +[0-9.]+ \([0-9.]+\) +[0-9.]+ +[0-9.]+\n)");
  CHECK(std::regex_search(r.out, array_row));
  const std::regex layer_row(R"(\n  relu +[0-9.]+ \([0-9.]+\) +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+% +[0-9.]+%\n)");
  CHECK(std::regex_search(r.out, layer_row));
  CHECK(r.out.find("One dense layer: batch 8, 64 -> 64") != std::string::npos);
  CHECK(r.out.find("phi and phi' take ") != std::string::npos);
}

TEST_CASE("gradflow bench: bad values exit 2 naming the flag; -o writes the file") {
  for (const auto& [args, fragment] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"bench", "--size", "10"}, "--size"},
           {{"bench", "--repeat", "1"}, "--repeat"},
           {{"bench", "-a", "tahn"}, "did you mean 'tanh'"},
           {{"bench", "--dtype", "f16"}, "--dtype"},
           {{"bench", "--format", "csv"}, "--format"}}) {
    CAPTURE(args);
    const ProcessResult r = run_gradflow(args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("gradflow: error: ", 0) == 0);
    CHECK(r.err.find(fragment) != std::string::npos);
  }
  const std::string path = temp_dir() + "/bench.json";
  const ProcessResult r = run_gradflow(bench_args({"-a", "relu", "--format", "json", "-o", path}));
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(nlohmann::json::parse(read_file(path))["arrays"].size() == 1);
}
