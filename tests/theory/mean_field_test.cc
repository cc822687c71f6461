// Mean-field predictions against the closed forms the literature gives (Poole et al. 2016,
// Schoenholz et al. 2017, Klambauer et al. 2017) and against their own defining equations.
#include <doctest/doctest.h>

#include <cmath>

#include "theory/mean_field.h"
#include "theory/theory.h"

using namespace gf;

namespace {

MeanFieldModel model(const char* name, double sw2, double sb2, Index depth, double param = 0.01) {
  MeanFieldModel m;
  m.phi = phi_of(name, param);
  m.sigma_w2.assign(static_cast<std::size_t>(depth), sw2);
  m.sigma_b2 = sb2;
  m.widths.assign(static_cast<std::size_t>(depth + 1), 100);
  m.batch = 32;
  return m;
}

}  // namespace

TEST_CASE("relu: chi_1 = sigma_w2 / 2 and q_l = sigma_w2 q_{l-1} / 2 + sigma_b2") {
  for (double sw2 : {1.0, 2.0, 2.6}) {
    for (double sb2 : {0.0, 0.3}) {
      const auto layers = predict_layers(model("relu", sw2, sb2, 12));
      double q = sw2 * 1.0 + sb2;
      for (const LayerTheory& t : layers) {
        CHECK(t.q == doctest::Approx(q).epsilon(1e-13));
        if (t.layer < 12) CHECK(t.chi == doctest::Approx(sw2 / 2).epsilon(1e-13));
        q = sw2 * q / 2 + sb2;
      }
      // The gradient shrinks or grows by sqrt(chi_1) per layer.
      CHECK(layers.front().grad_preact_rel_log10 == doctest::Approx(11 * 0.5 * std::log10(sw2 / 2)).epsilon(1e-12));
      const FixedPoint f = fixed_point(phi_of("relu"), sw2, sb2, 0, sw2 + sb2, 0.01);
      CHECK(f.chi_1 == doctest::Approx(sw2 / 2).epsilon(1e-13));
      if (sw2 < 2) CHECK(f.q_star == doctest::Approx(sb2 / (1 - sw2 / 2)).epsilon(1e-12));
      CAPTURE(sw2);
      CAPTURE(sb2);
      CAPTURE(f.q_star);
      if (sw2 > 2 || (sw2 == 2 && sb2 > 0)) CHECK(std::isinf(f.q_star));
    }
  }
  // leaky_relu: chi_1 = sigma_w2 (1 + a^2) / 2.
  const FixedPoint lf = fixed_point(phi_of("leaky_relu", 0.2), 1.5, 0, 0, 1.5, 0.01);
  CHECK(lf.chi_1 == doctest::Approx(1.5 * (1 + 0.04) / 2).epsilon(1e-13));
}

TEST_CASE("identity: chi_1 = sigma_w2, and the gradient profile is its powers") {
  for (double sw2 : {0.5, 1.0, 1.7}) {
    const auto layers = predict_layers(model("identity", sw2, 0, 8));
    for (const LayerTheory& t : layers)
      if (t.layer < 8) CHECK(t.chi == doctest::Approx(sw2).epsilon(1e-14));
    CHECK(layers.front().grad_preact_rel_log10 == doctest::Approx(7 * 0.5 * std::log10(sw2)).epsilon(1e-12));
    CHECK(fixed_point(phi_of("identity"), sw2, 0, 0, sw2, 0.01).chi_1 == doctest::Approx(sw2).epsilon(1e-14));
  }
}

TEST_CASE("tanh with sigma_b2 = 0: q* = 0 and chi_1 = sigma_w2 up to sigma_w2 = 1, q* > 0 above") {
  for (double sw2 : {0.3, 0.7, 0.95, 1.0}) {
    CAPTURE(sw2);
    const FixedPoint f = fixed_point(phi_of("tanh"), sw2, 0, 0, sw2, 0.001);
    CHECK(f.q_star == 0);
    CHECK(f.chi_1 == doctest::Approx(sw2).epsilon(1e-9));
  }
  for (double sw2 : {1.05, 1.5, 3.0}) {
    CAPTURE(sw2);
    const FixedPoint f = fixed_point(phi_of("tanh"), sw2, 0, 0, sw2, 0.001);
    CHECK(f.q_star > 1e-3);
    // q* is a fixed point of the length map: sigma_w2 E[tanh(sqrt(q*) z)^2] = q*.
    CHECK(sw2 * expect1(phi_of("tanh"), 0, f.q_star).phi2 == doctest::Approx(f.q_star).epsilon(1e-12));
    CHECK(f.chi_1 > 1);
  }
}

TEST_CASE("tanh's edge of chaos at sigma_b2 = 0.05 is near 1.76 (Poole et al. 2016, Fig. 3)") {
  const double s = critical_sigma_w2(phi_of("tanh"), 0.05, 0, 1.0);
  CHECK(s == doctest::Approx(1.76).epsilon(0.005));
  // It is where chi_1 = 1 at q*.
  const FixedPoint f = fixed_point(phi_of("tanh"), s, 0.05, 0, s + 0.05, 0.01);
  CHECK(f.chi_1 == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(f.phase == Phase::critical);
  CHECK(critical_sigma_w2(phi_of("tanh"), 0.0, 0, 1.0) == doctest::Approx(1.0).epsilon(1e-8));
  CHECK(critical_sigma_w2(phi_of("relu"), 0.1, 0, 1.0) == doctest::Approx(2.0).epsilon(1e-10));
}

TEST_CASE("selu with lecun_normal keeps q near 1 at every depth") {
  TheoryConfig c;
  c.activations = {"selu"};
  c.depth = 50;
  const auto r = run_theory(c);
  REQUIRE(r.size() == 1);
  CHECK(r[0].init == "lecun_normal");
  CHECK(r[0].sigma_w2 == 1.0);
  for (const LayerTheory& t : r[0].layers) CHECK(std::abs(t.q - 1) < 1e-6);
  CHECK(r[0].fixed.q_star == doctest::Approx(1.0).epsilon(1e-8));
}

TEST_CASE("the correlation map: c* is its fixed point, chi_c its slope, xi_c = -1/ln chi_c") {
  const Phi tanh = phi_of("tanh");
  const double sw2 = 2.5, sb2 = 0.1;
  const FixedPoint f = fixed_point(tanh, sw2, sb2, 0, sw2 + sb2, 0.01);
  REQUIRE(f.phase == Phase::chaotic);
  REQUIRE(f.c_star < 1);
  // Iterating the map from c = 0.9 lands on c*.
  double c = 0.9;
  for (int i = 0; i < 400; ++i) c = (sw2 * expect2(tanh, 0, f.q_star, c).phiphi + sb2) / f.q_star;
  CHECK(c == doctest::Approx(f.c_star).epsilon(1e-8));
  const double e = 1e-5;
  auto map = [&](double x) { return (sw2 * expect2(tanh, 0, f.q_star, x).phiphi + sb2) / f.q_star; };
  CHECK((map(f.c_star + e) - map(f.c_star - e)) / (2 * e) == doctest::Approx(f.chi_c).epsilon(1e-6));
  CHECK(f.xi_c == doctest::Approx(-1 / std::log(f.chi_c)).epsilon(1e-12));
  // Ordered phase: c* = 1 and the correlations settle at the gradient's rate.
  const FixedPoint o = fixed_point(tanh, 1.2, 0.2, 0, 1.4, 0.01);
  REQUIRE(o.phase == Phase::ordered);
  CHECK(o.c_star == 1);
  CHECK(o.xi_c == doctest::Approx(-1 / std::log(o.chi_1)));
  // xi_q is the length map's slope: by central differences.
  auto V = [&](double q) { return 1.2 * expect1(tanh, 0, q).phi2 + 0.2; };
  CHECK((V(o.q_star + e) - V(o.q_star - e)) / (2 * e) == doctest::Approx(o.chi_q).epsilon(1e-7));
}

TEST_CASE("weight-gradient profile adds the layer's input norm") {
  MeanFieldModel m = model("tanh", 1.5, 0.05, 6);
  m.widths = {50, 100, 100, 200, 100, 100, 100};
  const auto layers = predict_layers(m);
  for (const LayerTheory& t : layers) {
    const double n_in = static_cast<double>(m.widths[static_cast<std::size_t>(t.layer - 1)]);
    const double m2 = t.layer == 1 ? 1.0 : layers[static_cast<std::size_t>(t.layer - 2)].act_m2;
    const double n_last = 100, m2_last = layers[4].act_m2;
    CHECK(t.grad_weight_rel_log10 ==
          doctest::Approx(t.grad_preact_rel_log10 + 0.5 * std::log10(n_in * m2 / (n_last * m2_last))).epsilon(1e-12));
  }
}

TEST_CASE("ranges: START:STOP:STEP is inclusive and rejects nonsense") {
  CHECK(parse_range("1.5") == std::vector<double>{1.5});
  CHECK(parse_range("0:0.3:0.1") == std::vector<double>{0, 0.1, 0.2, 0.3});
  CHECK(parse_range("0.5:4:0.05").size() == 71);
  CHECK_THROWS_AS(parse_range("1:0:0.1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_range("0:1:0"), std::invalid_argument);
  CHECK_THROWS_AS(parse_range("0:1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_range("a:1:0.1"), std::invalid_argument);
}

TEST_CASE("the phase diagram is the same for any thread count, and its cells match fixed_point") {
  TheoryConfig c;
  c.activations = {"tanh"};
  c.phase_diagram = true;
  c.sigma_w2 = parse_range("0.8:2.4:0.4");
  c.sigma_b2 = parse_range("0:0.2:0.1");
  c.threads = 1;
  const auto one = run_phase_diagram(c);
  c.threads = 2;
  const auto two = run_phase_diagram(c);
  REQUIRE(one.size() == 1);
  REQUIRE(one[0].cells.size() == 15);
  for (std::size_t i = 0; i < one[0].cells.size(); ++i) {
    const PhaseCell& a = one[0].cells[i];
    CHECK(a.chi_1 == two[0].cells[i].chi_1);
    CHECK(a.xi_c == two[0].cells[i].xi_c);
    const FixedPoint f = fixed_point(phi_of("tanh"), a.sigma_w2, a.sigma_b2, 0, a.sigma_w2 + a.sigma_b2, 0.01);
    CHECK(a.chi_1 == f.chi_1);
    CHECK(a.phase == f.phase);
  }
  // Left of the critical line ordered, right of it chaotic.
  for (std::size_t ib = 0; ib < 3; ++ib)
    for (std::size_t iw = 0; iw < 5; ++iw) {
      const PhaseCell& p = one[0].at(ib, iw);
      if (p.phase == Phase::ordered) CHECK(p.sigma_w2 < one[0].critical[ib]);
      if (p.phase == Phase::chaotic) CHECK(p.sigma_w2 > one[0].critical[ib]);
    }
}
