// Dead units: the orthant probabilities against their closed forms and a Monte-Carlo draw, then
// the predictions against what `analyze` measures on real networks.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"
#include "core/rng.h"
#include "theory/dead_units.h"
#include "theory/theory_compare.h"

using namespace gf;

TEST_CASE("dead zones are read off the activation table") {
  auto zone = [](const char* name, double p = 0.01) { return dead_zone(phi_of(name, p)); };
  REQUIRE(zone("relu").size() == 1);
  CHECK(std::isinf(zone("relu")[0].lo));
  CHECK(zone("relu")[0].hi == 0);
  CHECK(zone("leaky_relu").empty());
  CHECK(zone("leaky_relu", 0.0).size() == 1);
  REQUIRE(zone("hard_tanh").size() == 2);
  CHECK(zone("hard_tanh")[0].hi == -1);
  CHECK(zone("hard_tanh")[1].lo == 1);
  for (const char* smooth : {"tanh", "sigmoid", "elu", "selu", "gelu", "identity", "softsign"}) CHECK(zone(smooth).empty());
}

TEST_CASE("orthant probabilities of equicorrelated Gaussians: closed forms for B = 1, 2, 3") {
  const std::vector<Interval> relu = dead_zone(phi_of("relu"));
  for (double c : {0.0, 0.1, 0.5, 0.9, 0.999}) {
    CAPTURE(c);
    // Sheppard: P(X1 < 0, X2 < 0) = 1/4 + asin(c) / (2 pi); three: 1/8 + 3 asin(c) / (4 pi).
    CHECK(dead_unit_probability(relu, 0, 2.0, c, 1) == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(dead_unit_probability(relu, 0, 2.0, c, 2) == doctest::Approx(0.25 + std::asin(c) / (2 * M_PI)).epsilon(1e-10));
    CHECK(dead_unit_probability(relu, 0, 2.0, c, 3) ==
          doctest::Approx(0.125 + 3 * std::asin(c) / (4 * M_PI)).epsilon(1e-10));
  }
  CHECK(dead_unit_probability(relu, 0, 1.0, 0.0, 64) == doctest::Approx(std::ldexp(1.0, -64)).epsilon(1e-9));
  CHECK(dead_unit_probability(relu, 0, 1.0, 1.0, 64) == doctest::Approx(0.5).epsilon(1e-12));
  // A negative bias shifts the zone: one input, P(h < 0) = Phi(0.5 / 1).
  CHECK(dead_unit_probability(relu, -0.5, 1.0, 0.3, 1) == doctest::Approx(0.5 * std::erfc(-0.5 / std::sqrt(2.0))).epsilon(1e-12));
}

TEST_CASE("dead-unit probability matches a Monte-Carlo draw (hard_tanh, bias, B = 16)") {
  const std::vector<Interval> zone = dead_zone(phi_of("hard_tanh"));
  const double mu = 0.4, v = 4.0, c = 0.85;
  const int B = 16, trials = 200000;
  std::vector<float> z(static_cast<std::size_t>(trials) * (B + 1));
  fill_normal<float>({11, Stream::user, 0}, 0, z.data(), z.size());
  int dead = 0;
  for (int t = 0; t < trials; ++t) {
    const float* r = &z[static_cast<std::size_t>(t) * (B + 1)];
    bool all = true;
    for (int b = 1; b <= B && all; ++b) {
      const double h = mu + std::sqrt(v) * (std::sqrt(c) * r[0] + std::sqrt(1 - c) * r[b]);
      all = std::abs(h) >= 1;
    }
    dead += all;
  }
  const double p = dead_unit_probability(zone, mu, v, c, B), mc = static_cast<double>(dead) / trials;
  const double se = std::sqrt(p * (1 - p) / trials);
  CAPTURE(p);
  CAPTURE(mc);
  CHECK(std::abs(mc - p) < 4 * se);
}

TEST_CASE("born dead: 1 - prod(1 - 2^-N_l)") {
  const std::vector<long long> w(9, 2);
  CHECK(born_dead_probability(w) == doctest::Approx(1 - std::pow(0.75, 9)).epsilon(1e-14));
  CHECK(born_dead_probability(std::vector<long long>(20, 256)) == doctest::Approx(20 * std::ldexp(1.0, -256)).epsilon(1e-10));
}

TEST_CASE("measured: born-dead relu networks of width 2, depth 9, over many seeds") {
  // With batch 1, the network is dead at its input when the last layer is flat on it. Each
  // seed draws fresh weights; zero biases, he_normal.
  AnalysisConfig c;
  c.activations = {"relu"};
  c.depth = 9;
  c.width = {2};
  c.batch = 1;
  c.classes = 2;
  c.threads = 1;
  const int seeds = 3000;
  int dead = 0;
  for (int s = 0; s < seeds; ++s) {
    c.seed = static_cast<std::uint64_t>(s);
    const RunResult r = run_one(c, *find_activation("relu"));
    dead += r.pass.layers.back().dead_units_frac == 1.0;
  }
  const double p = born_dead_probability(std::vector<long long>(9, 2)), seen = static_cast<double>(dead) / seeds;
  const double se = std::sqrt(p * (1 - p) / seeds);  // 0.0048
  CAPTURE(seen);
  CAPTURE(p);
  CHECK(std::abs(seen - p) < 4 * se);
  MESSAGE("born dead: ", dead, " of ", seeds, " seeds (", seen, "), predicted ", p);
}

TEST_CASE("measured: relu he_normal dead units per layer, width 512, batch 64, within 0.02 of theory") {
  // Averaged over seeds. Per seed, a layer's dead share has a standard deviation of about 0.02
  // at 15% dead (units share the layer below, so they are not independent); 16 seeds bring the
  // noise of the average to about 0.005, leaving 0.02 for the theory's own error.
  AnalysisConfig c;
  c.activations = {"relu"};
  c.depth = 10;
  c.width = {512};
  c.batch = 64;
  c.threads = 2;
  const int seeds = 16;
  std::vector<double> mean(10, 0.0);
  TheoryComparison t;
  for (int s = 0; s < seeds; ++s) {
    c.seed = static_cast<std::uint64_t>(100 + s);
    const RunResult r = run_one(c, *find_activation("relu"));
    if (s == 0) t = compare_with_theory(c, r);
    for (std::size_t l = 0; l < 10; ++l) mean[l] += r.pass.layers[l].dead_units_frac / seeds;
  }
  double worst = 0;
  for (std::size_t l = 0; l < 10; ++l) {
    CAPTURE(l + 1);
    CAPTURE(mean[l]);
    CAPTURE(t.predicted[l].dead_units_frac);
    CHECK(std::abs(mean[l] - t.predicted[l].dead_units_frac) < 0.02);
    worst = std::max(worst, std::abs(mean[l] - t.predicted[l].dead_units_frac));
  }
  MESSAGE("layer 10: measured ", mean[9], ", predicted ", t.predicted[9].dead_units_frac, "; worst layer off by ", worst);
  // The prediction is not trivially small: dead units grow with depth to over 10%.
  CHECK(t.predicted[9].dead_units_frac > 0.1);
}
