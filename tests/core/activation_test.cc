#include "core/activation.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <limits>
#include <vector>

#include "closed_forms.h"

using namespace gf;
using namespace gf::test;

namespace {

std::vector<double> sample_points() {
  std::vector<double> xs = {-100, -89, -87.5, -87, -50, -44, -30, -20, -13.5, -13, -10, -5, -1, -0.5, -1e-3,
                            -1e-8, 0, 1e-8, 1e-3, 0.5, 1, 5, 10, 13, 20, 30, 44, 50, 87, 89, 100};
  for (int i = -400; i <= 400; ++i) xs.push_back(i * 0.0173);
  return xs;
}

// A kernel's value v against the true value r, to the scale of r in T: relative (rel) where r
// is a normal number of T, absolutely within T's smallest normal number below that, where the
// contract (src/base/portable_math.h) allows 0 or a subnormal. `scale` widens the relative part
// where the error is relative to larger terms that cancel (gelu', silu' near their zeros).
template <class T>
bool close_at_scale(double v, double r, double rel, double scale = 0) {
  const double tiny = std::numeric_limits<T>::min();
  return std::abs(v - r) <= std::max(rel * std::max(std::abs(r), scale), tiny);
}

// gelu' and silu' cross zero (at x = -0.75 and -1.28) as two O(1) terms cancel: their error is
// relative to those terms, not to the small difference.
double slope_scale(std::string_view name) { return name == "gelu" || name == "silu" ? 1.0 : 0.0; }

template <class T>
void eval(const Activation& act, const std::vector<double>& xs, std::vector<double>& a, std::vector<double>& d) {
  std::vector<T> h(xs.begin(), xs.end()), at(xs.size()), dt(xs.size());
  act.kernels<T>().phi_and_slope(h.data(), at.data(), dt.data(), static_cast<Index>(xs.size()), kLeak);
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
      CHECK(close_at_scale<double>(a[i], c.f(xs[i]), 1e-12));
      CHECK(close_at_scale<double>(d[i], c.df(xs[i]), 1e-12, slope_scale(act.name)));
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
      // Against the true value at the input the kernel saw (h rounded to f32).
      const double x = static_cast<float>(xs[i]);
      CHECK(close_at_scale<float>(a[i], c.f(x), 1e-5));
      CHECK(close_at_scale<float>(d[i], c.df(x), 1e-5, slope_scale(act.name)));
    }
  }
}

TEST_CASE_TEMPLATE("the tails (-87, -89, -100) are right in the vector body and in the scalar tail", T, float, double) {
  // Each value at every offset of a 71-long array, so it is computed once by a full vector of
  // every width (16, 8, 4, 2) and once by the scalar loop that finishes an array: the same
  // bits there and alone, and the closed form's value to the scale of T.
  const std::vector<double> special = {-100, -89, -87.5, -87, -44.5, -13.2, 87, 89, 100};
  const std::vector<double> filler = {-3, -0.7, 0.2, 1.5};
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    const Closed& c = closed_forms().at(std::string(act.name));
    for (double v : special) {
      CAPTURE(v);
      T alone_h = static_cast<T>(v), alone_a = 0, alone_d = 0;
      act.kernels<T>().phi_and_slope(&alone_h, &alone_a, &alone_d, 1, kLeak);
      CHECK(close_at_scale<T>(alone_a, c.f(v), 1e-5));
      CHECK(close_at_scale<T>(alone_d, c.df(v), 1e-5));
      for (Index at = 0; at < 71; ++at) {
        std::vector<T> h(71), a(71), d(71);
        for (Index i = 0; i < 71; ++i) h[i] = static_cast<T>(filler[i % 4]);
        h[at] = static_cast<T>(v);
        act.kernels<T>().phi_and_slope(h.data(), a.data(), d.data(), 71, kLeak);
        CHECK(std::memcmp(&a[at], &alone_a, sizeof(T)) == 0);
        CHECK(std::memcmp(&d[at], &alone_d, sizeof(T)) == 0);
      }
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
    act.kernels<double>().phi_and_slope(h.data(), a.data(), d.data(), n, kLeak);
    act.kernels<double>().phi(h.data(), a_only.data(), n, kLeak);
    CHECK(a_only == a);
    std::vector<float> af(h.size()), df(h.size()), af_only(h.size(), 7.0f);
    act.kernels<float>().phi_and_slope(hf.data(), af.data(), df.data(), n, kLeak);
    act.kernels<float>().phi(hf.data(), af_only.data(), n, kLeak);
    CHECK(af_only == af);
  }
}

namespace {

// phi'(x) from the textbook formulas in long double, whose range (down to 1e-4951) holds the
// slopes that underflow f32 and f64: the reference for the scaled slopes.
long double slope_ld(std::string_view name, long double x) {
  const long double lambda = kLambda, alpha = kAlpha;
  auto sig = [](long double v) { return 1 / (1 + std::exp(-v)); };
  if (name == "sigmoid") return std::exp(-std::fabs(x)) / std::pow(1 + std::exp(-std::fabs(x)), 2);
  if (name == "tanh") return 4 * std::exp(-2 * std::fabs(x)) / std::pow(1 + std::exp(-2 * std::fabs(x)), 2);
  if (name == "elu") return x > 0 ? 1 : std::exp(x);
  if (name == "selu") return x > 0 ? lambda : lambda * alpha * std::exp(x);
  if (name == "gelu")
    return 0.5L * std::erfc(-x / std::sqrt(2.0L)) + x * std::exp(-x * x / 2) / std::sqrt(2 * M_PIl);
  if (name == "silu") return sig(x) * (1 + x * (1 - sig(x)));
  if (name == "softplus") return sig(x);
  if (name == "softsign") return 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x)));
  FAIL("no reference slope for " << name);
  return 0;
}

// Deep in the tail where phi' underflows T: both tails for the symmetric ones, the left for the
// rest; gelu's slope falls as exp(-x^2/2), so its tail starts nearer.
std::vector<double> tail_points(std::string_view name, bool f32) {
  std::vector<double> xs;
  const double far = name == "gelu" ? (f32 ? 60 : 90) : (name == "softsign" ? 0 : (f32 ? 1000 : 3000));
  const double near = name == "gelu" ? (f32 ? 14 : 38) : (f32 ? 95 : 716);  // silu': |x| e^x
  if (name == "softsign") {  // 1/(1+|x|)^2 underflows only beyond 1e19 (f32) or 1e154 (f64)
    for (double e = f32 ? 20 : 155; e < (f32 ? 30 : 200); e += 0.5) xs.push_back(-std::pow(10.0, e));
  } else {
    for (int i = 0; i <= 200; ++i) xs.push_back(-(near + (far - near) * i / 200.0));
  }
  if (name == "sigmoid" || name == "tanh" || name == "softsign") {
    const std::size_t n = xs.size();
    for (std::size_t i = 0; i < n; ++i) xs.push_back(-xs[i]);
  }
  return xs;
}

}  // namespace

TEST_CASE_TEMPLATE("scaled slopes are phi'(h) e^shift deep in the tails, where phi' underflows", T, float, double) {
  for (const Activation& act : activations()) {
    CAPTURE(act.name);
    REQUIRE((act.kernels<T>().scaled_slope == nullptr) == (act.kernels<T>().slope_exponent == nullptr));
    if (!act.kernels<T>().scaled_slope) {
      // Slopes that are 0, 1, a parameter or a constant: never scaled.
      CHECK((act.has_dead_zone(kLeak) || act.name == "identity" || act.name == "leaky_relu"));
      continue;
    }
    const std::vector<double> xs = tail_points(act.name, std::is_same_v<T, float>);
    std::vector<T> h(xs.begin(), xs.end()), d(xs.size()), plain(xs.size()), a(xs.size());
    const auto n = static_cast<Index>(h.size());
    act.kernels<T>().phi_and_slope(h.data(), a.data(), plain.data(), n, kLeak);
    for (T v : plain) CHECK(std::abs(v) < std::numeric_limits<T>::min());  // the case in point
    const double shift = std::round(-act.kernels<T>().slope_exponent(h.data(), n));
    act.kernels<T>().scaled_slope(h.data(), d.data(), n, shift);
    long double top = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      const long double x = static_cast<T>(xs[i]);
      const long double ref = std::exp(std::log(std::fabs(slope_ld(act.name, x))) + shift) *
                              (slope_ld(act.name, x) < 0 ? -1 : 1);
      CHECK(close_at_scale<T>(static_cast<double>(d[i]), static_cast<double>(ref), 1e-5));
      top = std::max(top, std::fabs(static_cast<long double>(d[i])));
    }
    // The shift brings the largest slope to order 1, so the backward pass keeps its precision.
    CHECK(top > 1e-3L);
    CHECK(top < 1e3L);
  }
}

TEST_CASE_TEMPLATE("a scaled slope with shift 0 is the kernel's slope", T, float, double) {
  std::vector<T> h;
  for (double x = -40; x <= 40; x += 0.0173) h.push_back(static_cast<T>(x));
  const auto n = static_cast<Index>(h.size());
  for (const Activation& act : activations()) {
    if (!act.kernels<T>().scaled_slope) continue;
    CAPTURE(act.name);
    std::vector<T> a(h.size()), d(h.size()), scaled(h.size());
    act.kernels<T>().phi_and_slope(h.data(), a.data(), d.data(), n, kLeak);
    act.kernels<T>().scaled_slope(h.data(), scaled.data(), n, 0.0);
    for (std::size_t i = 0; i < h.size(); ++i) {
      CAPTURE(h[i]);
      CHECK(close_at_scale<T>(scaled[i], d[i], std::is_same_v<T, float> ? 1e-6 : 1e-14, slope_scale(act.name)));
    }
  }
}

namespace {
std::uint64_t fnv1a(std::uint64_t hash, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) hash = (hash ^ p[i]) * 1099511628211ULL;
  return hash;
}

template <class T>
std::uint64_t kernel_digest(std::uint64_t hash) {
  std::vector<T> h;
  for (int i = -6000; i <= 6000; ++i) h.push_back(static_cast<T>(i * 0.0213));  // -128 .. 128
  for (double v : {-1e30, -1e5, -710.0, -709.0, -100.0, -89.0, -87.3365, -87.0, -1e-30, 0.0, 1e-30, 1e5})
    h.push_back(static_cast<T>(v));
  const auto n = static_cast<Index>(h.size());
  std::vector<T> a(h.size()), d(h.size());
  for (const Activation& act : activations()) {
    // f64 gelu calls the C library's erfc (Eigen does so element by element): the same on
    // every build of one machine, but the C library's, not gradflow's, so not pinned here.
    if (std::is_same_v<T, double> && act.name == "gelu") continue;
    act.kernels<T>().phi_and_slope(h.data(), a.data(), d.data(), n, kLeak);
    hash = fnv1a(hash, a.data(), a.size() * sizeof(T));
    hash = fnv1a(hash, d.data(), d.size() * sizeof(T));
    if (act.kernels<T>().scaled_slope) {
      act.kernels<T>().scaled_slope(h.data(), d.data(), n, 37.0);
      hash = fnv1a(hash, d.data(), d.size() * sizeof(T));
    }
  }
  return hash;
}
}  // namespace

TEST_CASE("every kernel gives the same bits on every instruction set") {
  // The digest of every kernel's output over 12,000 inputs, tails included, recorded with the
  // AVX-512 build (-march=native on a Xeon). CI runs this suite on a second instruction set
  // (.ci/run: x86-64-v3 or SSE2), where the same digest proves the same bits; it was also
  // reproduced with -march=x86-64-v3 and GRADFLOW_NATIVE=OFF builds by hand. A deliberate
  // change of a kernel's arithmetic changes it (print it from here and record it); a
  // difference on one instruction set only is the bug this test exists for.
  const std::uint64_t digest = kernel_digest<double>(kernel_digest<float>(1469598103934665603ULL));
  CAPTURE(digest);
  CHECK(digest == 0xb7ab6656724f7258ULL);
}
