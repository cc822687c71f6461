#pragma once
// exp, expm1 and log1p with one result for an input on every x86-64 build.
//
// The contract, which every activation kernel's exponential goes through (activation.cc):
//  - The result depends on the input alone: not on the build's instruction set (SSE2, AVX2,
//    AVX-512), not on where the element sits in an array (a vector lane or the scalar tail),
//    not on the C library. Each function is one scalar formula of IEEE additions,
//    multiplications and divisions and integer bit operations, without branches, so that a
//    loop calling it vectorises and a lane computes exactly what the scalar code does. That
//    needs -ffp-contract=off (a multiply and an add fused on FMA builds and not on SSE2 round
//    differently): CMakeLists.txt gives it to the only two files that include this header,
//    activation.cc and portable_math.cc. Eigen's own exp differs per instruction set (AVX-512
//    flushes below -88.4, the generic path clamps at -88.7 and returns 2.9e-39 for every smaller
//    x, the scalar tail calls the C library, FMA builds round differently).
//  - exp(x) is within 2 ulp of e^x (measured on every f32 input: 1.03 ulp at worst) where e^x
//    is a normal number; below that it underflows gradually, correctly rounded to the subnormal
//    grid, to exactly 0 below -103.97 (f32) or -745.13 (f64); +inf above the largest number.
//  - expm1(x) = e^x - 1 within 2 ulp for every x (f32, every input: 1.77 ulp).
//  - log1p(x) = ln(1 + x) within 2 ulp for 0 <= x <= 1 (f32: 1.97 ulp), what softplus needs.
//  - NaN in, NaN out.
// The kernels call the variants below (exp_scaled, ...), which return exactly 0 instead of a
// subnormal: a value that has lost its digits anyway, and a matrix product with subnormal
// inputs runs 160 times slower on this Xeon. A kernel's output is then within a few ulp of the
// truth where that is a normal number, and within the smallest normal number of it (0, or a
// subnormal where a product of normal numbers falls there) below. gradflow reports slopes below
// the normal range (slope_underflow_frac) and keeps the gradients exact by computing them again
// with their scale taken out (core/op_dense.cc). Checked in tests/base/portable_math_test.cc (f64 by
// sampling) and tests/core/activation_test.cc.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "base/tensor.h"

namespace gf {
namespace portable {

template <class T>
struct Consts;

template <>
struct Consts<float> {
  using Int = std::int32_t;
  using UInt = std::uint32_t;
  static constexpr int kMantissa = 23, kBias = 127;
  static constexpr float kShifter = 0x1.8p23f;  // x + kShifter rounds x to an integer
  static constexpr float kLog2e = 0x1.715476p0f;
  // Cody and Waite's split of ln 2: k * kLn2Hi is exact for |k| < 2^15.
  static constexpr float kLn2Hi = 0x1.63p-1f, kLn2Lo = -0x1.bd0106p-13f;
  static constexpr float kLow = -104.0f;      // e^-104 rounds to 0 (below 2^-150)
  static constexpr float kHigh = 89.0f;       // e^89 is above FLT_MAX: inf
  static constexpr float kExpm1Low = -80.0f;  // expm1 is -1 in f32 from -17.4 down
};

template <>
struct Consts<double> {
  using Int = std::int64_t;
  using UInt = std::uint64_t;
  static constexpr int kMantissa = 52, kBias = 1023;
  static constexpr double kShifter = 0x1.8p52;
  static constexpr double kLog2e = 0x1.71547652b82fep0;
  static constexpr double kLn2Hi = 0x1.62e4p-1, kLn2Lo = 0x1.7f7d1cf79abcap-20;  // exact for |k| < 2^35
  static constexpr double kLow = -746.0;  // e^-746 rounds to 0 (below 2^-1075)
  static constexpr double kHigh = 710.0;
  static constexpr double kExpm1Low = -700.0;
};

// e^r - 1 = r + r^2 g(r) for |r| <= ln2/2 (a little beyond is fine), g by Horner.
// f32: g is mpmath.chebyfit's degree-4 fit of (e^r - 1 - r)/r^2 on [-0.35, 0.35], absolute
// error 6.8e-8, so e^r - 1 is off by at most 0.03 ulp from it (four steps where Taylor needs
// five). f64: Taylor to r^13/13!, truncation below 0.05 ulp.
inline float expm1_near_zero(float r) {
  float g = 0x1.6d1606p-10f;
  g = g * r + 0x1.12106cp-7f;
  g = g * r + 0x1.555516p-5f;
  g = g * r + 0x1.5554d8p-3f;
  g = g * r + 0.5f;
  return r + (r * r) * g;
}

inline constexpr int kExpTermsF64 = 13;
struct InvFactorials {  // 1/j!, each rounded once (j! is exact in a double)
  double v[kExpTermsF64 + 1];
  constexpr InvFactorials() : v() {
    double f = 1;
    for (int j = 0; j <= kExpTermsF64; ++j) v[j] = 1.0 / (f *= (j > 0 ? j : 1));
  }
};
inline constexpr InvFactorials kInvFactorials{};

inline double expm1_near_zero(double r) {
  double g = kInvFactorials.v[kExpTermsF64];
  for (int j = kExpTermsF64 - 1; j >= 2; --j) g = g * r + kInvFactorials.v[j];
  return r + (r * r) * g;
}

// 2^k for k inside the normal exponent range, from the bits.
template <class T>
inline T pow2(typename Consts<T>::Int k) {
  using C = Consts<T>;
  return std::bit_cast<T>((static_cast<typename C::UInt>(k) + C::kBias) << C::kMantissa);
}

// y 2^k in two factors: the first product is exact and normal, so the second rounds once, also
// where the result is subnormal (gradual underflow), and k = 128 (e^88.7 < FLT_MAX) needs no
// 2^128.
template <class T>
inline T scale_by_pow2(T y, typename Consts<T>::Int k) {
  const auto k1 = k >> 1, k2 = k - k1;
  return (y * pow2<T>(k1)) * pow2<T>(k2);
}

// x = k ln2 + r, |r| <= ln2/2, for x within [kLow, kHigh]; p = e^r - 1.
template <class T>
struct Reduced {
  typename Consts<T>::Int k;
  T p;
  T m;  // k as a T: compared as a T, it vectorises where 64-bit integer compares do not (SSE2)
};

// The integer m that x kShifter + ... rounded to, from the bits: unsigned, so that even the
// garbage of a far-out or NaN x is defined (the callers select it away).
template <class T>
inline typename Consts<T>::Int integer_part(T shifted) {
  using C = Consts<T>;
  using U = typename C::UInt;
  return static_cast<typename C::Int>(std::bit_cast<U>(shifted) - std::bit_cast<U>(C::kShifter));
}

template <class T>
inline Reduced<T> reduce(T x) {
  using C = Consts<T>;
  const T shifted = x * C::kLog2e + C::kShifter;
  const T m = shifted - C::kShifter;  // round(x / ln2)
  const T r = (x - m * C::kLn2Hi) - m * C::kLn2Lo;
  return {integer_part(shifted), expm1_near_zero(r), m};
}

// As reduce, for x = a + b where a is large and exact and b small (gelu's -h^2/2 split in two):
// a - m ln2_hi is exact (a multiple of 2^-9 below 2^8, as is m ln2_hi), so a's digits all count.
template <class T>
inline Reduced<T> reduce_sum(T a, T b) {
  using C = Consts<T>;
  const T shifted = (a + b) * C::kLog2e + C::kShifter;
  const T m = shifted - C::kShifter;
  const T r = ((a - m * C::kLn2Hi) + b) - m * C::kLn2Lo;
  return {integer_part(shifted), expm1_near_zero(r), m};
}

// (1 + p) 2^(k + j) by adding to the exponent's bits, or 0 where that is below the smallest
// normal number. Where it is, the sum of bits is a subnormal pattern or, once the exponent
// wraps, negative: both fail v >= min. Far below (k + j < kFar) the bits could wrap back to a
// positive number, so m rules those out first. Unsigned arithmetic: any k is defined.
template <int j, class T>
inline T scale_or_flush(Reduced<T> red) {
  using C = Consts<T>;
  using U = typename C::UInt;
  constexpr T kFar = sizeof(T) == 4 ? T(-300) : T(-2000);  // below any normal, above the wrap
  const U k = static_cast<U>(red.k) + static_cast<U>(j);
  const T v = std::bit_cast<T>(std::bit_cast<U>(T(1) + red.p) + (k << C::kMantissa));
  return ((red.m >= kFar) & (v >= std::numeric_limits<T>::min())) ? v : T(0);  // & not &&: no branch
}

// max and min as the instructions compute them (NaN stays NaN here): one instruction each.
template <class T>
inline T clamp(T x, T lo, T hi) {
  const T up = x < lo ? lo : x;
  return up > hi ? hi : up;
}

// e^x - 1 from a reduction of x clamped to [kExpm1Low, kHigh]: 2^k p + (2^k - 1), both terms
// exact or nearly and no cancellation for k <= 0 (p itself when k = 0). Past 2^(mantissa + 2)
// the -1 no longer shows: there it is e^x.
template <class T>
inline T expm1_from(Reduced<T> red) {
  using C = Consts<T>;
  constexpr auto kBig = C::kMantissa + 2;
  const auto ks = red.k <= kBig ? red.k : kBig;
  const T two = pow2<T>(ks);
  const T small = two * red.p + (two - T(1));
  const T big = scale_by_pow2(T(1) + red.p, red.k);
  return red.k <= kBig ? small : big;
}

}  // namespace portable

template <class T>
inline T exp_of(T x) {
  using C = portable::Consts<T>;
  const auto red = portable::reduce(portable::clamp(x, C::kLow, C::kHigh));
  return portable::scale_by_pow2(T(1) + red.p, red.k);
}

template <class T>
inline T expm1_of(T x) {
  using C = portable::Consts<T>;
  return portable::expm1_from(portable::reduce(portable::clamp(x, C::kExpm1Low, C::kHigh)));
}

// e^x and e^x - 1 from one reduction (tanh, elu and selu need both): the values of exp_of and
// expm1_of.
template <class T>
struct ExpPair {
  T e, m;
};
template <class T>
inline ExpPair<T> exp_expm1_of(T x) {
  using C = portable::Consts<T>;
  const auto red = portable::reduce(portable::clamp(x, C::kLow, C::kHigh));
  // Below kExpm1Low, expm1 is -1 whatever the reduction; above, both clamps agree.
  return {portable::scale_by_pow2(T(1) + red.p, red.k), x < C::kExpm1Low ? T(-1) : portable::expm1_from(red)};
}

// What the kernels call: e^x 2^j for x <= 88 - j ln2, as exp_of where that is a normal number,
// and exactly 0 where it is not: never a subnormal. No clamp and no second factor: less work
// than exp_of's gradual underflow. j, a small constant, makes room for a factor the caller
// multiplies in (tanh's 4, silu's h), so that the product keeps its digits wherever it is a
// normal number itself.
template <int j, class T>
inline T exp_scaled(T x) {
  return portable::scale_or_flush<j>(portable::reduce(x));
}

// e^(a + b) 2^j, a large and exact (a multiple of 2^-9 below 2^8 in size), b small.
template <int j, class T>
inline T exp_sum_scaled(T a, T b) {
  return portable::scale_or_flush<j>(portable::reduce_sum(a, b));
}

namespace portable {
// e^x - 1 for x <= 0 from an unclamped reduction: 2^k p + (2^k - 1), as expm1_from for k <= 0,
// and -1 below kExpm1Low, where 2^k would leave the normal range.
template <class T>
inline T expm1_nonpositive(T x, Reduced<T> red) {
  const T two = pow2<T>(red.k);
  return x < Consts<T>::kExpm1Low ? T(-1) : two * red.p + (two - T(1));
}
}  // namespace portable

// What the kernels call for e^x - 1, x <= 0: the value of expm1_of, with less work.
template <class T>
inline T expm1_kernel(T x) {
  return portable::expm1_nonpositive(x, portable::reduce(x));
}

// e^x 2^j and e^x - 1 from one reduction, for x <= 0 (elu, selu, tanh).
template <int j, class T>
inline ExpPair<T> exp_expm1_scaled(T x) {
  const auto red = portable::reduce(x);
  return {portable::scale_or_flush<j>(red), portable::expm1_nonpositive(x, red)};
}

// ln(1 + x) = 2 atanh(s), s = x / (2 + x) in [0, 1/3] for x in [0, 1]: 2s (1 + s^2/3 + s^4/5 + ...).
template <class T>
inline T log1p_of(T x) {
  constexpr int kTerms = sizeof(T) == 4 ? 8 : 17;  // (1/9)^n / (2n+1) below 0.1 ulp
  const T s = x / (T(2) + x), w = s * s;
  T q = T(1) / T(2 * kTerms - 1);
  for (int j = kTerms - 2; j >= 1; --j) q = q * w + T(1) / T(2 * j + 1);
  const T two_s = s + s;
  return two_s + (two_s * w) * q;
}

// The same over arrays (the tests' entry points; the kernels call the scalar ones inline).
template <class T>
void exp_inplace(T* x, Index n);
template <class T>
void expm1_inplace(T* x, Index n);
template <class T>
void log1p_inplace(T* x, Index n);
template <class T>
void exp_expm1(const T* x, T* e, T* m, Index n);

}  // namespace gf
