// Golden outputs: every run in tests/golden/runs.txt is run again with this build's gradflow and
// its JSON compared with tests/golden/NAME.json, recorded by an earlier commit (README there).
// Same keys in the same order, the same strings, booleans, integers and nulls, and every other
// number within a tolerance that holds on every instruction set:
//   f64: 1e-12 relative, plus 1e-14 absolute for values near 0. Such values are differences of
//     log10s of order 1 (grad_weight_rel_log10) or means of signed terms of order 1 (act_mean),
//     so their rounding is a few ulps of 1 (2.2e-16 each), not of themselves; 1e-14 is ~50 ulps
//     of 1. Measured: AVX-512 vs AVX2 (FMA in both) differ by at most 1.5e-13 relative, 1.8e-15
//     absolute (README.md).
//     Depth scales (xi_*) get xi times that relative tolerance (see depth_scale).
//   f32: `gradflow check`'s defaults (atol 1e-4, rtol 1e-4) and, for fractions of counted things,
//     its slack of 2 counts (src/batch/baseline.h says why): a unit on a threshold, a gradient entry
//     near 0 (sign coherence) or a near-tie of two logits (train and test error) flips with the
//     last bit on another instruction set.
// Setting GRADFLOW_GOLDEN_WRITE=DIR writes the files instead of comparing (make_golden.sh).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "batch/baseline.h"
#include "process.h"

using namespace gf::test;
using ojson = nlohmann::ordered_json;

namespace {

const std::string kGoldenDir = std::string(GRADFLOW_SOURCE_DIR) + "/tests/golden";

struct GoldenRun {
  std::string name;
  std::vector<std::string> args;
  std::string command_line() const {
    std::string s = "gradflow";
    for (const std::string& a : args) s += " " + a;
    return s;
  }
};

std::vector<GoldenRun> golden_runs() {
  std::vector<GoldenRun> runs;
  std::istringstream in(read_file(kGoldenDir + "/runs.txt"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    GoldenRun r;
    if (!(words >> r.name) || r.name[0] == '#') continue;
    for (std::string w; words >> w;) r.args.push_back(w);
    runs.push_back(std::move(r));
  }
  return runs;
}

// What legitimately differs between builds and machines: the tool's version and the context
// block (git sha, build type, compiler, Eigen, SIMD). Timings are off unless asked for
// (train --timings), and no golden run asks.
ojson strip(ojson doc) {
  if (doc.is_object()) {
    doc.erase("version");
    doc.erase("context");
  }
  return doc;
}

// A JSON document, or JSONL (a sweep's records) as an array of its records.
ojson parse_output(const std::string& text) {
  ojson doc = ojson::parse(text, nullptr, false);
  if (!doc.is_discarded()) return strip(std::move(doc));
  ojson records = ojson::array();
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) records.push_back(strip(ojson::parse(line)));
  return records;
}

// How numbers of one document (or sweep record) are compared.
struct Scale {
  bool f32 = false;
  std::optional<gf::AnalysisConfig> shape;  // depth, widths and batch, for count quanta
  double eval_batch = 0, n_test = 0;        // train: the samples its errors count
  long layer = 0;                           // the layer being walked (0: summary level)
};

Scale scale_of(const ojson& obj, Scale s) {
  const auto config = obj.find("config");
  if (config == obj.end() || !config->is_object()) return s;
  s.f32 = config->value("dtype", "f64") == "f32";  // theory has no dtype: it is f64 throughout
  s.shape.reset();
  const std::string command = obj.value("command", "analyze");  // sweep records have none
  if (!s.f32 || command == "theory") return s;
  // Count quanta depend on the shape alone. train's per-layer statistics and training error are
  // of its evaluation batch, so there the batch is --eval-batch.
  const bool train = command == "train";
  ojson shape;
  for (const char* key : {"depth", "width", "input-dim", "batch"}) shape[key] = config->at(key);
  if (train) {
    shape["batch"] = config->at("eval-batch");
    s.eval_batch = config->at("eval-batch").get<double>();
    s.n_test = config->at("n-test").get<double>();
  }
  s.shape = gf::reproduce_config(shape, "golden config");
  return s;
}

// One count of a count fraction: `gradflow check`'s quanta (src/batch/baseline.h), and train's errors,
// counts of misclassified samples of the evaluation batch and of the test set.
double count_quantum(const std::string& key, const Scale& s) {
  if (key == "train_error" || key == "final_train_error") return s.eval_batch > 0 ? 1 / s.eval_batch : 0;
  if (key == "test_error" || key == "final_test_error") return s.n_test > 0 ? 1 / s.n_test : 0;
  return s.shape && s.layer <= s.shape->depth ? gf::count_quantum(key, s.layer, *s.shape) : 0;
}

// Depth scales xi = -1/ln(c) (theory's xi_q, xi_c, xi_grad) carry the rounding of c amplified by
// xi itself (d xi / xi = xi dc/c): near the critical line xi is in the hundreds, and SSE2 (no
// FMA) and AVX2 part by 1e-11 relative at xi_c = 336 (ln c agreeing to 3e-14). Their relative
// tolerance is xi times the f64 one.
bool depth_scale(const std::string& key) { return key.rfind("xi_", 0) == 0; }

struct Comparison {
  std::vector<std::string> mismatches;
  std::size_t numbers = 0;
  double worst = 0;  // the largest difference / allowed difference, and where
  std::string worst_at;
  void add(const std::string& path, const std::string& what) { mismatches.push_back(path + ": " + what); }
};

double allowed(const std::string& key, double expected, const Scale& s) {
  if (s.f32) return gf::Tolerance{}.allowed(key, expected, count_quantum(key, s));
  const double rtol = depth_scale(key) ? 1e-12 * std::max(1.0, std::fabs(expected)) : 1e-12;
  return gf::Tolerance{1e-14, rtol, 0, {}, {}}.allowed(key, expected, 0);
}

// `key` is the metric a number belongs to: its own key, or its parent's for per-seed statistics
// ({"mean": ..., "se": ...}), so that count quanta apply to both.
void compare(const ojson& want, const ojson& got, const std::string& path, const std::string& key, Scale s,
             Comparison& c) {
  const auto show = [](const ojson& j) { return j.dump(); };
  if (want.is_number_float() && got.is_number_float()) {
    ++c.numbers;
    const double e = want.get<double>(), v = got.get<double>(), tol = allowed(key, e, s);
    if (std::fabs(v - e) > c.worst * tol) c.worst = std::fabs(v - e) / tol, c.worst_at = path;
    if (!(std::fabs(v - e) <= tol))
      c.add(path, fmt::format("expected {}, got {} (difference {:.3g}, allowed {:.3g})", show(want), show(got), v - e, tol));
    return;
  }
  if (want.type() != got.type()) {
    c.add(path, fmt::format("expected {} ({}), got {} ({})", show(want), want.type_name(), show(got), got.type_name()));
    return;
  }
  if (want.is_object()) {
    s = scale_of(want, s);
    if (const auto l = want.find("layer"); l != want.end() && l->is_number_integer()) s.layer = l->get<long>();
    std::vector<std::string> want_keys, got_keys;
    for (const auto& [k, v] : want.items()) want_keys.push_back(k);
    for (const auto& [k, v] : got.items()) got_keys.push_back(k);
    if (want_keys != got_keys)
      c.add(path, fmt::format("keys differ: expected [{}], got [{}]", fmt::join(want_keys, ","), fmt::join(got_keys, ",")));
    for (const auto& [k, v] : want.items()) {
      const bool statistic = k == "mean" || k == "se" || k == "sd" || k == "min" || k == "max";
      if (got.contains(k)) compare(v, got[k], path + "/" + k, statistic ? key : k, s, c);
    }
  } else if (want.is_array()) {
    if (want.size() != got.size()) c.add(path, fmt::format("expected {} elements, got {}", want.size(), got.size()));
    for (std::size_t i = 0; i < std::min(want.size(), got.size()); ++i)
      compare(want[i], got[i], fmt::format("{}/{}", path, i), key, s, c);
  } else if (want != got) {  // strings, booleans, integers (exactly), null
    c.add(path, fmt::format("expected {}, got {}", show(want), show(got)));
  }
}

ojson run(const GoldenRun& g) {
  ProcessOptions o;
  o.cwd = GRADFLOW_SOURCE_DIR;
  const ProcessResult r = run_gradflow(g.args, o);
  INFO(g.command_line(), "\n", r.err);
  REQUIRE(r.exit_code == 0);
  return parse_output(r.out);
}

// Under the sanitizers every run is several times slower: there only the small runs, which
// between them reach every activation, loss, init, optimizer and dtype; the presets, the
// default run and the sweeps (larger networks through the same code) run in the plain builds.
bool in_this_build(const GoldenRun& g) {
#ifdef GRADFLOW_SANITIZED
  for (const char* big : {"default", "preset-", "sweep-"})
    if (g.name.rfind(big, 0) == 0) return false;
#endif
  (void)g;
  return true;
}

}  // namespace

TEST_CASE("golden outputs: every run in tests/golden/runs.txt gives the recorded JSON") {
  const std::vector<GoldenRun> runs = golden_runs();
  REQUIRE(runs.size() >= 40);
  if (const char* dir = std::getenv("GRADFLOW_GOLDEN_WRITE")) {
    for (const GoldenRun& g : runs) write_file(std::string(dir) + "/" + g.name + ".json", run(g).dump(1) + "\n");
    return;
  }
  std::size_t compared = 0;
  double worst = 0;
  std::string worst_at;
  for (const GoldenRun& g : runs) {
    if (!in_this_build(g)) continue;
    CAPTURE(g.command_line());
    const std::string file = kGoldenDir + "/" + g.name + ".json";
    INFO("golden file ", file, " (regenerate with tests/golden/make_golden.sh, see its README)");
    REQUIRE(file_exists(file));
    Comparison c;
    compare(ojson::parse(read_file(file)), run(g), "", "", Scale{}, c);
    compared += c.numbers;
    if (c.worst > worst) worst = c.worst, worst_at = g.name + ": " + c.worst_at;
    std::string first;
    for (std::size_t i = 0; i < std::min<std::size_t>(c.mismatches.size(), 10); ++i) first += "\n  " + c.mismatches[i];
    CHECK_MESSAGE(c.mismatches.empty(), fmt::format("golden run {}: {} of its values differ from {}:{}", g.name,
                                                    c.mismatches.size(), file, first));
  }
  MESSAGE(fmt::format("{} numbers compared; the largest difference is {:.3g} of its tolerance ({})", compared,
                      worst, worst_at));
  CHECK(compared > 10000);
}
