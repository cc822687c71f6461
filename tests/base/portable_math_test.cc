#include "base/portable_math.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

// The references are the C library's long double functions (64-bit significands): independent
// of the code under test, and exact enough to measure f64 errors in ulp.

using namespace gf;

namespace {

template <class T>
long double ulp_at(long double v) {
  int e = 0;
  std::frexp(static_cast<double>(std::fabs(v)), &e);
  return std::ldexp(1.0L, e - std::numeric_limits<T>::digits);
}

template <class T>
std::vector<T> grid(T lo, T hi, int n) {
  std::vector<T> x;
  for (int i = 0; i < n; ++i) x.push_back(lo + (hi - lo) * static_cast<T>(i) / static_cast<T>(n - 1));
  return x;
}

struct Worst {
  double ulp = 0;
  double at = 0;
};

// Largest error in ulp where the true value is a normal number; below the normal range the
// result is within one step of the subnormal grid (2^-149 in f32).
template <class T, class F, class R>
Worst worst_ulp(const std::vector<T>& x, F f, R ref) {
  std::vector<T> y = x;
  f(y.data(), static_cast<Index>(y.size()));
  Worst w;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double r = ref(static_cast<long double>(x[i]));
    CAPTURE(x[i]);
    if (std::fabs(r) > std::numeric_limits<T>::max()) {
      CHECK(std::isinf(y[i]));
      continue;
    }
    if (std::fabs(r) < std::numeric_limits<T>::min()) {
      CHECK(std::fabs(static_cast<long double>(y[i]) - r) <= std::numeric_limits<T>::denorm_min());
      continue;
    }
    const double e = static_cast<double>(std::fabs(static_cast<long double>(y[i]) - r) / ulp_at<T>(r));
    if (e > w.ulp) w = {e, static_cast<double>(x[i])};
  }
  return w;
}

long double ref_exp(long double v) { return std::exp(v); }
long double ref_expm1(long double v) { return std::expm1(v); }
long double ref_log1p(long double v) { return std::log1p(v); }

}  // namespace

TEST_CASE_TEMPLATE("exp, expm1 and log1p are within 2 ulp of the truth", T, float, double) {
  // f32 was also checked on every input once (exp 1.03, expm1 1.77, log1p 1.97 ulp at worst);
  // these grids keep the test fast and cover the reduction's every branch and both ends.
  const T lo = std::is_same_v<T, float> ? T(-110) : T(-760);
  const T hi = std::is_same_v<T, float> ? T(90) : T(711);
  for (const auto& x : {grid<T>(lo, hi, 400001), grid<T>(T(-1), T(1), 200001), grid<T>(T(-1e-4), T(1e-4), 20001)}) {
    const Worst e = worst_ulp<T>(x, exp_inplace<T>, ref_exp);
    const Worst m = worst_ulp<T>(x, expm1_inplace<T>, ref_expm1);
    CAPTURE(e.at);
    CAPTURE(m.at);
    CHECK(e.ulp <= 2.0);
    CHECK(m.ulp <= 2.0);
  }
  for (const auto& x : {grid<T>(T(0), T(1), 400001), grid<T>(T(0), T(1e-5), 20001)}) {
    const Worst l = worst_ulp<T>(x, log1p_inplace<T>, ref_log1p);
    CAPTURE(l.at);
    CHECK(l.ulp <= 2.0);
  }
}

TEST_CASE_TEMPLATE("exp underflows gradually to 0", T, float, double) {
  const bool f32 = std::is_same_v<T, float>;
  std::vector<T> x = {T(-87), T(-89), T(-100), f32 ? T(-103.9) : T(-745), f32 ? T(-104.1) : T(-746), T(-1e30),
                      -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::infinity(),
                      std::numeric_limits<T>::quiet_NaN(), T(0), T(-0.0)};
  const std::vector<T> in = x;
  exp_inplace(x.data(), static_cast<Index>(x.size()));
  for (int i = 0; i < 5; ++i) {
    CAPTURE(in[i]);
    CHECK(std::fabs(static_cast<long double>(x[i]) - std::exp(static_cast<long double>(in[i]))) <=
          std::max(std::numeric_limits<T>::denorm_min() * 1.0L, 2 * std::exp(static_cast<long double>(in[i])) *
                                                                    std::numeric_limits<T>::epsilon()));
  }
  CHECK(x[3] > T(0));  // the last subnormal steps
  CHECK(x[4] == T(0));
  CHECK(x[5] == T(0));
  CHECK(x[6] == T(0));
  CHECK(std::isinf(x[7]));
  CHECK(std::isnan(x[8]));
  CHECK(x[9] == T(1));
  CHECK(x[10] == T(1));

}

TEST_CASE_TEMPLATE("exp_expm1 gives exactly the values of exp and expm1", T, float, double) {
  std::vector<T> x = grid<T>(T(-800), T(800), 100001);
  x.push_back(std::numeric_limits<T>::quiet_NaN());
  x.push_back(-std::numeric_limits<T>::infinity());
  const auto n = static_cast<Index>(x.size());
  std::vector<T> e(x.size()), m(x.size()), e_ref = x, m_ref = x;
  exp_expm1(x.data(), e.data(), m.data(), n);
  exp_inplace(e_ref.data(), n);
  expm1_inplace(m_ref.data(), n);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CAPTURE(x[i]);
    CHECK(std::memcmp(&e[i], &e_ref[i], sizeof(T)) == 0);
    CHECK(std::memcmp(&m[i], &m_ref[i], sizeof(T)) == 0);
  }
}

TEST_CASE_TEMPLATE("a value's result does not depend on its place in the array", T, float, double) {
  // The tails the issue was about (-87, -89, -100) at every offset of a 71-long array, so that
  // each is once in the vector body and once in the scalar tail, against one-element calls.
  const std::vector<T> special = {T(-87), T(-89), T(-100), T(-87.3365), T(-0.3465), T(0.3466),
                                  T(-708.4), T(-745), T(1e-40), T(0.5)};
  for (T v : special) {
    CAPTURE(v);
    T alone_e = v, alone_m = v, alone_l = std::abs(v) <= 1 ? std::abs(v) : T(0.25);
    exp_inplace(&alone_e, 1);
    expm1_inplace(&alone_m, 1);
    log1p_inplace(&alone_l, 1);
    for (int at = 0; at < 71; ++at) {
      std::vector<T> e = grid<T>(T(-3), T(3), 71), m = e, l(71, T(0.125));
      e[at] = m[at] = v;
      l[at] = std::abs(v) <= 1 ? std::abs(v) : T(0.25);
      exp_inplace(e.data(), 71);
      expm1_inplace(m.data(), 71);
      log1p_inplace(l.data(), 71);
      CHECK(std::memcmp(&e[at], &alone_e, sizeof(T)) == 0);
      CHECK(std::memcmp(&m[at], &alone_m, sizeof(T)) == 0);
      CHECK(std::memcmp(&l[at], &alone_l, sizeof(T)) == 0);
    }
  }
}

TEST_CASE_TEMPLATE("the kernels' exp: e^x 2^j within 2 ulp where normal, else 0 or below the normal range", T, float, double) {
  // exp_scaled skips exp_of's gradual underflow: values below the smallest normal number are 0
  // (or tiny, which the kernels flush); 2^j only moves where that happens.
  const bool f32 = std::is_same_v<T, float>;
  const std::vector<T> x = grid<T>(f32 ? T(-110) : T(-760), T(0.5), 300001);
  auto check = [&](auto scaled, int j, auto name) {
    CAPTURE(name);
    CAPTURE(j);
    double worst = 0;
    for (T v : x) {
      const long double truth = std::ldexp(std::exp(static_cast<long double>(v)), j);
      const T got = scaled(v);
      if (truth < std::numeric_limits<T>::min()) {
        CHECK(got < std::numeric_limits<T>::min());
        CHECK(got >= T(0));
      } else {
        worst = std::max(worst, static_cast<double>(std::fabs(got - truth) / ulp_at<T>(truth)));
      }
    }
    CHECK(worst <= 2.0);
  };
  check([](T v) { return exp_scaled<0>(v); }, 0, "exp_scaled");
  check([](T v) { return exp_scaled<2>(v); }, 2, "exp_scaled");
  check([](T v) { return exp_scaled<7>(v); }, 7, "exp_scaled");
  check([](T v) { return exp_expm1_scaled<1>(v).e; }, 1, "exp_expm1_scaled");
  // a + b with a a multiple of 1/512 (gelu's -hi^2/2) and |b| < 1.
  check([](T v) {
    const T a = std::floor(v * T(512)) / T(512);
    return exp_sum_scaled<4>(a, v - a);
  }, 4, "exp_sum_scaled");
  for (T v : grid<T>(T(-100), T(0), 20001)) {
    CAPTURE(v);
    CHECK(exp_expm1_scaled<3>(v).m == expm1_of(v));
  }
}
