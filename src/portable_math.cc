#include "portable_math.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

// Compiled with -ffp-contract=off (CMakeLists.txt): a multiply-add fused on FMA builds and not
// on SSE2 would round differently. Every function below is branch-free (selects only), so the
// loops that apply them vectorise, and a lane computes what the scalar tail computes.

namespace gf {
namespace {

template <class T>
struct Consts;

template <>
struct Consts<float> {
  using Int = std::int32_t;
  static constexpr int kMantissa = 23, kBias = 127;
  static constexpr int kTerms = 7;  // Taylor to r^7/7!: truncation below 0.1 ulp for |r| <= ln2/2
  static constexpr float kShifter = 0x1.8p23f;  // x + kShifter rounds x to an integer
  static constexpr float kLog2e = 0x1.715476p0f;
  // Cody and Waite's split of ln 2: k * kLn2Hi is exact for |k| < 2^15.
  static constexpr float kLn2Hi = 0x1.63p-1f, kLn2Lo = -0x1.bd0106p-13f;
  static constexpr float kLow = -104.0f;    // e^x rounds to 0 below -103.97
  static constexpr float kHigh = 89.0f;     // e^89 is above FLT_MAX: inf
  static constexpr float kExpm1Low = -80.0f;            // expm1 is -1 in f32 from -17.4 down
};

template <>
struct Consts<double> {
  using Int = std::int64_t;
  static constexpr int kMantissa = 52, kBias = 1023;
  static constexpr int kTerms = 13;  // r^13/13!: truncation below 0.05 ulp for |r| <= ln2/2
  static constexpr double kShifter = 0x1.8p52;
  static constexpr double kLog2e = 0x1.71547652b82fep0;
  static constexpr double kLn2Hi = 0x1.62e4p-1, kLn2Lo = 0x1.7f7d1cf79abcap-20;  // exact for |k| < 2^35
  static constexpr double kLow = -746.0;  // e^x rounds to 0 below -745.13
  static constexpr double kHigh = 710.0;
  static constexpr double kExpm1Low = -700.0;
};

// 1/j! for j = 0..kTerms, each rounded once from the exact fraction's double.
template <class T>
constexpr auto kInvFactorial = [] {
  struct Table {
    T v[Consts<T>::kTerms + 1];
  } t{};
  double f = 1;
  for (int j = 0; j <= Consts<T>::kTerms; ++j) {
    if (j > 0) f *= j;
    t.v[j] = static_cast<T>(1.0 / f);
  }
  return t;
}();

// e^r - 1 for |r| <= ln2/2 (a little beyond is fine): r + r^2 (1/2! + r/3! + ...), Horner.
template <class T>
inline T expm1_near_zero(T r) {
  constexpr auto& c = kInvFactorial<T>.v;
  T q = c[Consts<T>::kTerms];
  for (int j = Consts<T>::kTerms - 1; j >= 2; --j) q = q * r + c[j];
  return r + (r * r) * q;
}

// 2^k for k inside the normal exponent range, from the bits.
template <class T>
inline T pow2(typename Consts<T>::Int k) {
  using C = Consts<T>;
  return std::bit_cast<T>(static_cast<typename C::Int>(k + C::kBias) << C::kMantissa);
}

// x = k ln2 + r, |r| <= ln2/2 (x within [-1100, 1100]); p = e^r - 1.
template <class T>
struct Reduced {
  typename Consts<T>::Int k;
  T p;
};

template <class T>
inline Reduced<T> reduce(T x) {
  using C = Consts<T>;
  const T shifted = x * C::kLog2e + C::kShifter;
  const T m = shifted - C::kShifter;  // round(x / ln2)
  const auto k = std::bit_cast<typename C::Int>(shifted) - std::bit_cast<typename C::Int>(C::kShifter);
  const T r = (x - m * C::kLn2Hi) - m * C::kLn2Lo;
  return {k, expm1_near_zero(r)};
}

template <class T>
inline T clamp(T x, T lo, T hi) {  // NaN goes to lo: the integer work below stays in range
  const T up = x >= lo ? x : lo;
  return up <= hi ? up : hi;
}

// 2^k in two factors: the first product is exact and normal, so the second rounds once, also
// where the result is a subnormal number (gradual underflow down to 2^-149), and k = 128
// (e^88.7 < FLT_MAX) needs no 2^128.
template <class T>
inline T scale_by_pow2(T y, typename Consts<T>::Int k) {
  const auto k1 = k >> 1, k2 = k - k1;
  return (y * pow2<T>(k1)) * pow2<T>(k2);
}

template <class T>
inline T exp_one(T x) {
  using C = Consts<T>;
  const auto [k, p] = reduce(clamp(x, C::kLow, C::kHigh));
  const T y = scale_by_pow2(T(1) + p, k);
  return x != x ? x : (x < C::kLow ? T(0) : y);
}

// e^x - 1 from the same reduction, with x clamped to [kExpm1Low, kHigh]: 2^k p + (2^k - 1),
// both terms exact or nearly and no cancellation for k <= 0 (p itself when k = 0). Past
// 2^(mantissa + 2) the -1 no longer shows: there it is e^x.
template <class T>
inline T expm1_from(T x, Reduced<T> red) {
  using C = Consts<T>;
  constexpr auto kBig = C::kMantissa + 2;
  const auto [k, p] = red;
  const auto ks = k <= kBig ? k : kBig;
  const T two = pow2<T>(ks);
  const T small = two * p + (two - T(1));
  const T big = scale_by_pow2(T(1) + p, k);
  return x != x ? x : (k <= kBig ? small : big);
}

template <class T>
inline T expm1_one(T x) {
  using C = Consts<T>;
  return expm1_from(x, reduce(clamp(x, C::kExpm1Low, C::kHigh)));
}

// ln(1 + x) = 2 atanh(s), s = x / (2 + x) in [0, 1/3] for x in [0, 1]: 2s (1 + s^2/3 + s^4/5 + ...).
template <class T>
inline T log1p_one(T x) {
  constexpr int kTerms = sizeof(T) == 4 ? 8 : 17;  // (1/9)^n / (2n+1) below 0.1 ulp
  const T s = x / (T(2) + x), w = s * s;
  T q = T(1) / T(2 * kTerms - 1);
  for (int j = kTerms - 2; j >= 1; --j) q = q * w + T(1) / T(2 * j + 1);
  const T two_s = s + s;
  return two_s + (two_s * w) * q;
}

}  // namespace

template <class T>
void exp_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = exp_one(x[i]);
}

template <class T>
void expm1_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = expm1_one(x[i]);
}

template <class T>
void log1p_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = log1p_one(x[i]);
}

template <class T>
void exp_expm1(const T* x, T* e, T* m, Index n) {
  using C = Consts<T>;
  for (Index i = 0; i < n; ++i) {
    const T v = x[i];
    // One reduction serves both where their clamps agree, i.e. above kExpm1Low; below it
    // expm1 is -1 whatever the reduction says.
    const Reduced<T> red = reduce(clamp(v, C::kLow, C::kHigh));
    e[i] = v != v ? v : (v < C::kLow ? T(0) : scale_by_pow2(T(1) + red.p, red.k));
    m[i] = v < C::kExpm1Low ? T(-1) : expm1_from(v, red);
  }
}

template <class T>
void flush_subnormals(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = std::abs(x[i]) < std::numeric_limits<T>::min() ? T(0) : x[i];
}

template void exp_inplace<float>(float*, Index);
template void exp_inplace<double>(double*, Index);
template void expm1_inplace<float>(float*, Index);
template void expm1_inplace<double>(double*, Index);
template void log1p_inplace<float>(float*, Index);
template void log1p_inplace<double>(double*, Index);
template void exp_expm1<float>(const float*, float*, float*, Index);
template void exp_expm1<double>(const double*, double*, double*, Index);
template void flush_subnormals<float>(float*, Index);
template void flush_subnormals<double>(double*, Index);

}  // namespace gf
