// `gradflow theory` and `gradflow analyze` read --init, --gain, --sigma-w2 and --weight-std by one
// rule (core/init_flags.h): for every combination both accept it with the same label and the same
// weight variance, or both refuse it with the same message. The variances are also checked
// against the schemes' closed forms (Glorot and Bengio 2010, He et al. 2015, Saxe et al. 2014).
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/analysis.h"
#include "core/params.h"
#include "theory/theory.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

constexpr Index kWidth = 16, kDepth = 4;

struct Flags {
  std::string init;
  std::optional<double> gain, sigma_w2, weight_std;
  Index residual = 0;
};

Flags flags(std::string init, std::optional<double> gain = {}, std::optional<double> sigma_w2 = {},
            std::optional<double> weight_std = {}, Index residual = 0) {
  return {std::move(init), gain, sigma_w2, weight_std, residual};
}

struct Outcome {
  std::string error;  // "" when accepted
  std::string label;
  double sigma_w2 = 0;  // fan_in x Var(W) of a hidden layer
};

Outcome theory_of(const Flags& f, const std::string& act) {
  TheoryConfig c;
  c.activations = {act};
  c.init = f.init;
  c.gain = f.gain;
  if (f.sigma_w2) c.sigma_w2 = {*f.sigma_w2};
  c.weight_std = f.weight_std;
  c.depth = kDepth;
  c.width = kWidth;
  c.batch = 8;
  c.residual = f.residual;
  Outcome o;
  std::vector<TheoryResult> r;
  o.error = error_of([&] { r = run_theory(c); });
  if (o.error.empty()) {
    o.label = r.at(0).init;
    o.sigma_w2 = r.at(0).sigma_w2;
  }
  return o;
}

Outcome analyze_of(const Flags& f, const std::string& act) {
  AnalysisConfig c;
  c.activations = {act};
  c.init = f.init;
  c.gain = f.gain;
  c.sigma_w2 = f.sigma_w2;
  c.weight_std = f.weight_std;
  c.depth = kDepth;
  c.width = {kWidth};
  c.batch = 8;
  c.residual = f.residual;
  Outcome o;
  o.error = error_of([&] {
    validate(c);
    const NetworkSpec s = network_spec(c, *find_activation(act));
    o.label = s.weight_init.label;
    // Layer 2: square, inside the first block of a residual net (the drawer's own variance).
    o.sigma_w2 = static_cast<double>(kWidth) * layer_init(s, 2).variance(kWidth, kWidth);
  });
  return o;
}

}  // namespace

TEST_CASE("theory and analyze: every combination of --init, --gain, --sigma-w2 and --weight-std read alike") {
  const std::vector<std::optional<double>> gains = {std::nullopt, 2.0}, sw2s = {std::nullopt, 1.5},
                                           stds = {std::nullopt, 0.05};
  int accepted = 0, refused = 0;
  for (const std::string act : {"tanh", "relu"})
    for (const std::string init : {"auto", "fixup", "he_normal", "xavier_normal", "xavier_uniform", "orthogonal"})
      for (const Index residual : {Index{0}, Index{2}})
        for (const auto& gain : gains)
          for (const auto& sw2 : sw2s)
            for (const auto& ws : stds) {
              const Flags f{init, gain, sw2, ws, residual};
              CAPTURE(act);
              CAPTURE(init);
              CAPTURE(residual);
              CAPTURE(gain.value_or(-1));
              CAPTURE(sw2.value_or(-1));
              CAPTURE(ws.value_or(-1));
              const Outcome t = theory_of(f, act), a = analyze_of(f, act);
              CHECK(t.error == a.error);
              CHECK(t.label == a.label);
              // Equal widths of 16: sigma_w2 / 16 x 16 is exact, so the two agree to the bit. (Under
              // fixup theory reports the net's sigma_w2 with Fixup's per-layer factors in it,
              // network_fixed_point's, which fixup's own tests check.)
              if (init != "fixup") CHECK(t.sigma_w2 == a.sigma_w2);
              (t.error.empty() ? accepted : refused)++;
            }
  // Both kinds were met: the rule refuses some combinations and resolves the others.
  CHECK(accepted > 20);
  CHECK(refused > 20);
}

TEST_CASE("theory's sigma_w2 from --init and its companions, against the schemes' closed forms") {
  const auto sw2 = [](const Flags& f, const char* act) {
    const Outcome o = theory_of(f, act);
    INFO(o.error);
    REQUIRE(o.error.empty());
    return std::pair{o.label, o.sigma_w2};
  };
  const double n = kWidth;
  // He et al. 2015: Var = 2 / fan_in; the auto scheme of relu.
  CHECK(sw2(flags("auto"), "relu") == std::pair{std::string("he_normal"), n * (2 / n)});
  CHECK(sw2(flags("fixup", {}, {}, {}, 2), "relu").first == "fixup (he_normal)");
  // Glorot and Bengio 2010: Var = gain^2 x 2 / (fan_in + fan_out).
  CHECK(sw2(flags("xavier_normal", 2.0), "tanh") == std::pair{std::string("xavier_normal gain=2"), n * 4 * 2 / (2 * n)});
  // An orthogonal matrix times gain: Var = gain^2 / n, gain^2 = --sigma-w2.
  const auto [orth_label, orth] = sw2(flags("orthogonal", {}, 2.0), "tanh");
  CHECK(orth_label == "orthogonal sigma_w2=2");
  CHECK(orth == doctest::Approx(2.0).epsilon(1e-15));  // sqrt(2)^2
  CHECK(sw2(flags("auto", {}, 1.5), "tanh") == std::pair{std::string("sigma_w2=1.5"), 1.5});
  CHECK(sw2(flags("auto", {}, {}, 0.05), "tanh") == std::pair{std::string("weight_std=0.05"), n * 0.05 * 0.05});
}
