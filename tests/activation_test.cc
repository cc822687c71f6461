#include "activation.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "closed_forms.h"

using namespace gf;
using namespace gf::test;

namespace {

std::vector<double> sample_points() {
  std::vector<double> xs = {-50, -30, -20, -10, -5, -1, -0.5, -1e-3, -1e-8, 0, 1e-8, 1e-3, 0.5, 1, 5, 10, 20, 30, 50};
  for (int i = -400; i <= 400; ++i) xs.push_back(i * 0.0173);
  return xs;
}

double rel_err(double a, double b, double tiny) {
  return std::abs(a - b) / std::max({std::abs(a), std::abs(b), tiny});
}

// gelu' and silu' cross zero (at x = -0.75 and -1.28) as two O(1) terms cancel: their error is
// relative to those terms, not to the small difference.
double slope_scale(std::string_view name) { return name == "gelu" || name == "silu" ? 1.0 : 0.0; }

template <class T>
void eval(const Activation& act, const std::vector<double>& xs, std::vector<double>& a, std::vector<double>& d) {
  std::vector<T> h(xs.begin(), xs.end()), at(xs.size()), dt(xs.size());
  act.kernel<T>()(h.data(), at.data(), dt.data(), static_cast<Index>(xs.size()), kLeak);
  a.assign(at.begin(), at.end());
  d.assign(dt.begin(), dt.end());
}

}  // namespace

TEST_CASE("every activation in the table has a closed form here") {
  CHECK(activations().size() == closed_forms().size());
  for (const Activation& act : activations()) CHECK(closed_forms().count(std::string(act.name)) == 1);
}

TEST_CASE("f and f' match closed forms in f64, extremes included") {
  const auto xs = sample_points();
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    const Closed& c = closed_forms().at(std::string(act.name));
    std::vector<double> a, d;
    eval<double>(act, xs, a, d);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      CHECK(rel_err(a[i], c.f(xs[i]), 1e-300) < 1e-12);
      CHECK(rel_err(d[i], c.df(xs[i]), std::max(1e-300, slope_scale(act.name))) < 1e-12);
    }
  }
}

TEST_CASE("f and f' match closed forms in f32 to a few ulp, tails included") {
  const auto xs = sample_points();
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    const Closed& c = closed_forms().at(std::string(act.name));
    std::vector<double> a, d;
    eval<float>(act, xs, a, d);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      // Against the true value at the input the kernel saw, rounded to f32; values below f32's
      // normal range compare absolutely.
      const double x = static_cast<float>(xs[i]);
      const double tiny = 1e-36;
      CHECK(rel_err(a[i], static_cast<float>(c.f(x)), tiny) < 1e-5);
      CHECK(rel_err(d[i], static_cast<float>(c.df(x)), std::max(tiny, slope_scale(act.name))) < 1e-5);
    }
  }
}

TEST_CASE("gelu in f32 keeps its relative accuracy deep into the left tail") {
  // Phi(h) there is exp(-h^2/2) times a slowly varying factor: rounding h^2 or h/sqrt2 in f32
  // would cost up to 200 ulp at h = -13 (what the C library's erfcf of h/sqrt2 gives).
  std::vector<double> xs;
  for (int i = -1300; i <= 1300; ++i) xs.push_back(i / 100.0);
  std::vector<double> a, d;
  eval<float>(*find_activation("gelu"), xs, a, d);
  double worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double x = static_cast<float>(xs[i]);
    const double exact = x * 0.5 * std::erfc(-x / std::sqrt(2.0));
    if (exact != 0) worst = std::max(worst, std::abs(a[i] - exact) / std::abs(exact));
  }
  CHECK(worst < 1e-6);  // measured 6.7e-7 (11 ulp); the erfcf form was 1.2e-5
}

TEST_CASE("f' is the derivative of f (central differences away from kinks)") {
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    std::vector<double> xs, xp, xm;
    const double h = 1e-6;
    for (int i = -300; i <= 300; ++i) {
      const double x = i * 0.0231 + 0.005;  // never on a kink at 0 or +-1
      xs.push_back(x);
      xp.push_back(x + h);
      xm.push_back(x - h);
    }
    std::vector<double> a, d, ap, dp, am, dm;
    eval<double>(act, xs, a, d);
    eval<double>(act, xp, ap, dp);
    eval<double>(act, xm, am, dm);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      CHECK(std::abs((ap[i] - am[i]) / (2 * h) - d[i]) < 1e-7);
    }
  }
}

TEST_CASE("max_slope is the supremum of |f'|, and dead zones are exactly flat") {
  std::vector<double> xs;
  for (int i = -200000; i <= 200000; ++i) xs.push_back(i * 2.5e-4);
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    std::vector<double> a, d;
    eval<double>(act, xs, a, d);
    double top = 0;
    for (double v : d) top = std::max(top, std::abs(v));
    const double m = act.max_slope(kLeak);
    CHECK(top <= m * (1 + 1e-12));
    CHECK(top >= m * (1 - 1e-6));
    // Within [-20, 20], where no smooth slope underflows to 0 in f64.
    bool flat_somewhere = false;
    for (std::size_t i = 0; i < xs.size(); ++i) flat_somewhere |= std::abs(xs[i]) <= 20 && d[i] == 0.0;
    CHECK(flat_somewhere == act.has_dead_zone(kLeak));
  }
  CHECK(find_activation("leaky_relu")->has_dead_zone(0.0));
  CHECK(find_activation("leaky_relu")->max_slope(3.0) == 3.0);
}

TEST_CASE("lookup by name") {
  CHECK(find_activation("tanh")->name == "tanh");
  CHECK(find_activation("tahn") == nullptr);
  CHECK(activation_names().front() == "sigmoid");
}

TEST_CASE("the forward-only kernel computes the same phi, bit for bit") {
  std::vector<double> h;
  for (double x = -30; x <= 30; x += 0.0137) h.push_back(x);
  h.insert(h.end(), {0.0, -0.0, 1e-30, -1e-30, 1.0, -1.0, 80.0, -80.0});
  const std::vector<float> hf(h.begin(), h.end());
  const auto n = static_cast<Index>(h.size());
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    std::vector<double> a(h.size()), d(h.size()), a_only(h.size(), 7.0);
    act.kernel<double>()(h.data(), a.data(), d.data(), n, kLeak);
    act.forward_kernel<double>()(h.data(), a_only.data(), n, kLeak);
    CHECK(a_only == a);
    std::vector<float> af(h.size()), df(h.size()), af_only(h.size(), 7.0f);
    act.kernel<float>()(hf.data(), af.data(), df.data(), n, kLeak);
    act.forward_kernel<float>()(hf.data(), af_only.data(), n, kLeak);
    CHECK(af_only == af);
  }
}
