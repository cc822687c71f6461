#include "core/activation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "base/portable_math.h"

namespace gf {
namespace {

// Each activation is a struct with its formula for one element:
//   eval<slope>(h, pre, a, d, p): a = phi(h) and, if `slope`, d = phi'(h); p the parameter, pre
//   what a `prepass` computed for h (f64 gelu's erfc), if the struct has one.
// Where phi' has a tail that can fall below the float range, also
//   slope_exponent(h) = g(h), and scaled_slope(h, pre, shift, e^shift) = phi'(h) e^shift, written
//   as C(h) e^(g(h) + shift) so that nothing underflows when shift = -max g (activation.h).
// The formulas use IEEE arithmetic, selects and portable_math.h only, no branches and no calls:
// the loops below vectorise on every instruction set, and a vector lane computes exactly what
// the scalar tail computes (-ffp-contract=off for this file, CMakeLists.txt). Derivatives are
// formed so that they stay accurate where phi' is tiny: sigmoid' as e/(1+e)^2 with
// e = exp(-|h|), not a(1-a), which rounds to 0 in f32 beyond |h| = 17; and where exp's value is
// multiplied by a factor above 1, exp_scaled makes room for it first.

// min(h, 0) on the bits: h where its sign bit is set, else +0. A float select would do, but the
// compiler copies a loop body per branch of it here and then cannot vectorise.
template <class T>
inline T negative_part(T h) {
  using U = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  const U bits = std::bit_cast<U>(h);
  return std::bit_cast<T>(bits & (bits >> (8 * sizeof(T) - 1)));
}

struct Sigmoid {  // phi' = e / (1 + e)^2, e = exp(-|h|)
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T e = exp_scaled<0>(-std::abs(h));
    const T inv = T(1) / (T(1) + e);
    a = (h >= T(0) ? T(1) : e) * inv;
    if constexpr (slope) d = e * inv * inv;
  }
  template <class T>
  static T slope_exponent(T h) { return -std::abs(h); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T) {
    const T inv = T(1) / (T(1) + exp_scaled<0>(-std::abs(h)));
    return exp_scaled<0>(shift - std::abs(h)) * inv * inv;
  }
};

struct Tanh {  // tanh|h| = -m / (2 + m), m = expm1(-2|h|); phi' = 4e / (2 + m)^2, e = exp(-2|h|)
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T x = T(-2) * std::abs(h);
    T m, e4 = 0;
    if constexpr (slope) {
      const auto pair = exp_expm1_scaled<2>(x);  // e4 = 4e
      m = pair.m;
      e4 = pair.e;
    } else {
      m = expm1_kernel(x);
    }
    const T inv = T(1) / (T(2) + m);  // 1 / (1 + e), without e
    a = (h < T(0) ? m : -m) * inv;
    if constexpr (slope) d = e4 * inv * inv;
  }
  template <class T>
  static T slope_exponent(T h) { return T(-2) * std::abs(h); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T) {
    const T inv = T(1) / (T(2) + expm1_kernel(T(-2) * std::abs(h)));
    return exp_scaled<2>(shift - T(2) * std::abs(h)) * inv * inv;
  }
};

struct Relu {
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    a = h > T(0) ? h : T(0);
    if constexpr (slope) d = h > T(0) ? T(1) : T(0);  // relu'(0) = 0, as in PyTorch
  }
};

struct LeakyRelu {
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T s) {
    a = h > T(0) ? h : s * h;
    if constexpr (slope) d = h > T(0) ? T(1) : s;
  }
};

struct Elu {  // alpha = 1; phi' = exp(min(h, 0)), which is 1 for h > 0
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T x = negative_part(h);
    if constexpr (slope) {
      const auto [e, m] = exp_expm1_scaled<0>(x);
      a = h > T(0) ? h : m;
      d = e;
    } else {
      a = h > T(0) ? h : expm1_kernel(x);
    }
  }
  template <class T>
  static T slope_exponent(T h) { return h < T(0) ? h : T(0); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T) { return exp_scaled<0>(negative_part(h) + shift); }
};

// Klambauer et al. 2017, the constants that make N(0,1) a fixed point under lecun_normal.
constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

struct Selu {  // phi' = lambda for h > 0, lambda alpha exp(h) below; lambda alpha = 1.76 < 2
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T x = negative_part(h);
    const T la = T(kSeluLambda * kSeluAlpha);
    if constexpr (slope) {
      const auto [e2, m] = exp_expm1_scaled<1>(x);  // e2 = 2 exp(x)
      a = h > T(0) ? T(kSeluLambda) * h : la * m;
      d = (h > T(0) ? T(kSeluLambda / 2) : T(kSeluLambda * kSeluAlpha / 2)) * e2;
    } else {
      a = h > T(0) ? T(kSeluLambda) * h : la * expm1_kernel(x);
    }
  }
  template <class T>
  static T slope_exponent(T h) { return h < T(0) ? h : T(0); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T) {
    const T e2 = exp_scaled<1>(negative_part(h) + shift);
    return (h > T(0) ? T(kSeluLambda / 2) : T(kSeluLambda * kSeluAlpha / 2)) * e2;
  }
};

// gelu = h Phi(h), exact (erfc, accurate in the left tail); phi' = Phi(h) + h exp(-h^2/2)/sqrt(2pi).
constexpr double kDensity = 0.5 * M_2_SQRTPI * M_SQRT1_2;  // 1/sqrt(2 pi)

// min(x, cap) for x, cap >= 0 on the bits, which order such floats: an integer min, which the
// compiler keeps as one instruction (a float select it may turn into branches, here).
inline float min_nonneg(float x, float cap) {
  return std::bit_cast<float>(std::min(std::bit_cast<std::uint32_t>(x), std::bit_cast<std::uint32_t>(cap)));
}

// floor(y) for 0 <= y < 2^23 in IEEE additions (std::floor is a call on SSE2).
inline float floor_small(float y) {
  const float r = (y + 0x1p23f) - 0x1p23f;  // y rounded to nearest
  return r > y ? r - 1.0f : r;
}

// f32: Eigen 3.4's erfc calls the C library one element at a time (18 ns, 130x relu), so f32
// uses Numerical Recipes' erfcc: for z >= 0, erfc(z) = u exp(-z^2 + P(u)) with u = 1/(1 + z/2),
// relative error below 1.2e-7 for every z. Here z = |h|/sqrt2, and -z^2 = -h^2/2 is taken as
// -hi^2/2 - (|h| - hi)(|h| + hi)/2 with hi = |h| rounded down to a multiple of 1/16: hi^2/2 is
// exact and goes into the exponential's reduction whole (exp_sum_scaled), so the tail keeps
// f32's accuracy (rounding h^2 would cost h^2 ulp). Then Phi(h) = erfc(-h/sqrt2)/2: with
// E = erfc(|h|/sqrt2), E/2 for h <= 0 and 1 - E/2 above. With a shift, exp(-h^2/2) and E carry
// e^shift, and so do Phi and phi'.
struct GeluF32 {
  float Phi, slope;
};
template <bool slope>
[[gnu::always_inline]] inline GeluF32 gelu_f32(float h, float shift, float exp_shift) {
  const float x = min_nonneg(std::abs(h), 4096.0f);  // floor_small's range
  const float hi = floor_small(x * 16.0f) * 0.0625f;
  const float big = -0.5f * hi * hi, small = -0.5f * (x - hi) * (x + hi);
  const float u = 1.0f / (1.0f + float(0.5 * M_SQRT1_2) * x);
  const float P =
      -1.26551223f +
      u * (1.00002368f +
           u * (0.37409196f +
                u * (0.09678418f +
                     u * (-0.18628806f +
                          u * (0.27886807f +
                               u * (-1.13520398f + u * (1.48851587f + u * (-0.82215223f + u * 0.17087277f))))))));
  const float E = u * exp_sum_scaled<0>(big + shift, small + P);  // e^shift erfc(|h|/sqrt2)
  GeluF32 g;
  g.Phi = h > 0.0f ? exp_shift - 0.5f * E : 0.5f * E;
  // phi' = Phi + h exp(-h^2/2)/sqrt(2pi); 2^4 of room for h exp(-h^2/2) down to h = -16.
  g.slope = slope ? g.Phi + (h * float(kDensity / 16)) * exp_sum_scaled<4>(big + shift, small) : 0.0f;
  return g;
}

// f64, below -30: Phi(h) = phi(h) R(|h|), R the Mills ratio, from its asymptotic series
// 1/z (1 - 1/z^2 + 3/z^4 - ...), 1e-14 at z = 30; so phi' = exp(-h^2/2)/sqrt(2pi) (R - |h|).
constexpr double kGeluTail = -30;

struct Gelu {
  // f64: Phi from the C library's erfc, in a loop of its own (a call per element), so that the
  // rest still vectorises.
  template <class T>
  static constexpr bool kPrepass = std::is_same_v<T, double>;
  static double prepass(double h) { return 0.5 * std::erfc(-M_SQRT1_2 * h); }

  template <bool slope, class T>
  static void eval(T h, T Phi, T& a, T& d, T) {
    if constexpr (std::is_same_v<T, float>) {
      const GeluF32 g = gelu_f32<slope>(h, 0.0f, 1.0f);
      a = h * g.Phi;
      if constexpr (slope) d = g.slope;
    } else {
      a = h * Phi;
      if constexpr (slope) d = Phi + (h * (kDensity / 64)) * exp_scaled<6>(-0.5 * h * h);
    }
  }
  template <class T>
  static T slope_exponent(T h) {
    const T x = h < T(0) ? h : T(0);
    return T(-0.5) * x * x;
  }
  template <class T>
  static T scaled_slope(T h, T Phi, T shift, T exp_shift) {
    if constexpr (std::is_same_v<T, float>) {
      return gelu_f32<true>(h, shift, exp_shift).slope;
    } else {
      const T z2 = h * h, z = -h;
      const T e = exp_scaled<6>(shift - 0.5 * z2);  // 64 exp(-h^2/2) e^shift
      const T mills = (1 - (1 - (3 - (15 - (105 - 945 / z2) / z2) / z2) / z2) / z2) / z;
      return h < kGeluTail ? (kDensity / 64) * e * (mills - z) : Phi * exp_shift + (h * (kDensity / 64)) * e;
    }
  }
};

struct Silu {  // h sigmoid(h); phi' = sigmoid(h) + h e / (1 + e)^2, e = exp(-|h|)
  // e is taken as 2^7 e (e128): h e, near h = -100 where it still matters, keeps its digits.
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T e128 = exp_scaled<7>(-std::abs(h));
    const T inv = T(1) / (T(1) + e128 * T(1.0 / 128));
    a = (h >= T(0) ? h : (h * T(1.0 / 128)) * e128) * inv;  // h sigmoid(h)
    if constexpr (slope) d = ((h >= T(0) ? T(128) : e128) + h * e128 * inv) * inv * T(1.0 / 128);
  }
  template <class T>
  static T slope_exponent(T h) { return h < T(0) ? h : T(0); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T exp_shift) {
    const T inv = T(1) / (T(1) + exp_scaled<0>(-std::abs(h)));
    const T u128 = exp_scaled<7>(shift - std::abs(h));
    return ((h >= T(0) ? T(128) * exp_shift : u128) + h * u128 * inv) * inv * T(1.0 / 128);
  }
};

struct Softplus {  // log(1 + exp(h)) = log1p(e) + max(h, 0), e = exp(-|h|); phi' = sigmoid(h)
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T e = exp_scaled<0>(-std::abs(h));
    a = log1p_of(e) + (h > T(0) ? h : T(0));
    if constexpr (slope) d = (h >= T(0) ? T(1) : e) / (T(1) + e);
  }
  template <class T>
  static T slope_exponent(T h) { return h < T(0) ? h : T(0); }
  template <class T>
  static T scaled_slope(T h, T, T shift, T exp_shift) {
    const T e = exp_scaled<0>(-std::abs(h));
    return (h >= T(0) ? exp_shift : exp_scaled<0>(shift - std::abs(h))) / (T(1) + e);
  }
};

struct Softsign {  // phi' = 1 / (1 + |h|)^2
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    const T inv = T(1) / (T(1) + std::abs(h));
    a = h * inv;
    if constexpr (slope) d = inv * inv;
  }
  template <class T>
  static T slope_exponent(T h) { return T(-2) * std::log1p(std::abs(h)); }
  // e^(shift/2) / (1 + |h|), squared: e^shift itself would overflow first. `exp_shift` is
  // e^(shift/2) here (scaled_slope_kernel).
  static constexpr bool kHalfShift = true;
  template <class T>
  static T scaled_slope(T h, T, T, T exp_half_shift) {
    const T v = exp_half_shift / (T(1) + std::abs(h));
    return v * v;
  }
};

struct HardTanh {
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    a = h < T(-1) ? T(-1) : (h > T(1) ? T(1) : h);
    if constexpr (slope) d = std::abs(h) < T(1) ? T(1) : T(0);  // 0 at +-1 and beyond, as in PyTorch
  }
};

struct Identity {
  template <bool slope, class T>
  static void eval(T h, T, T& a, T& d, T) {
    a = h;
    if constexpr (slope) d = T(1);
  }
};

template <class Act>
constexpr bool kHasTail = requires { Act::template slope_exponent<float>(0.0f); };

template <class Act, class T>
constexpr bool kHasPrepass = [] {
  if constexpr (requires { Act::template kPrepass<T>; }) return Act::template kPrepass<T>;
  else return false;
}();

// Applies f(i, pre) for i < n, in slices whose prepass values fit a stack array.
constexpr Index kSlice = 1024;

template <class Act, class T, class F>
[[gnu::always_inline]] inline void for_each_element(const T* h, Index n, F f) {
  if constexpr (kHasPrepass<Act, T>) {
    T pre[kSlice];
    for (Index i0 = 0; i0 < n; i0 += kSlice) {
      const Index m = std::min(kSlice, n - i0);
      for (Index i = 0; i < m; ++i) pre[i] = Act::prepass(h[i0 + i]);
#pragma GCC ivdep
      for (Index i = 0; i < m; ++i) f(i0 + i, pre[i]);
    }
  } else {
    // d may be h itself: each element is read before it is written, so the loop carries no
    // dependence and vectorises (ivdep), with no run-time aliasing check to fall back on.
#pragma GCC ivdep
    for (Index i = 0; i < n; ++i) f(i, T(0));
  }
}

template <class Act, class T>
void kernel(const T* h, T* a, T* d, Index n, double param) {
  const T p = static_cast<T>(param);
  for_each_element<Act>(h, n, [&](Index i, T pre) {
    T ai = 0, di = 0;
    Act::template eval<true>(h[i], pre, ai, di, p);
    a[i] = ai;
    d[i] = di;
  });
}

// The same code without phi' (what inference would run): `gradflow bench` times both.
template <class Act, class T>
void forward_kernel(const T* h, T* a, Index n, double param) {
  const T p = static_cast<T>(param);
  for_each_element<Act>(h, n, [&](Index i, T pre) {
    T ai = 0, unused = 0;
    Act::template eval<false>(h[i], pre, ai, unused, p);
    a[i] = ai;
  });
}

template <class Act, class T>
double slope_exponent_kernel(const T* h, Index n) {
  double top = -std::numeric_limits<double>::infinity();
  for (Index i = 0; i < n; ++i) top = std::max(top, static_cast<double>(Act::template slope_exponent<T>(h[i])));
  return top;
}

template <class Act, class T>
void scaled_slope_kernel(const T* h, T* d, Index n, double shift) {
  const T s = static_cast<T>(shift);
  T exp_s = exp_of(s);  // e^shift, or e^(shift/2) for an activation that squares it
  if constexpr (requires { Act::kHalfShift; }) exp_s = exp_of(s / T(2));
  for_each_element<Act>(h, n, [&](Index i, T pre) { d[i] = Act::template scaled_slope<T>(h[i], pre, s, exp_s); });
}

template <class Act, class T>
constexpr SlopeExponentKernel<T> slope_exponent_of() {
  if constexpr (kHasTail<Act>) return &slope_exponent_kernel<Act, T>;
  else return nullptr;
}
template <class Act, class T>
constexpr ScaledSlopeKernel<T> scaled_slope_of() {
  if constexpr (kHasTail<Act>) return &scaled_slope_kernel<Act, T>;
  else return nullptr;
}

constexpr double kAtZero[] = {0.0};
constexpr double kAtOnes[] = {-1.0, 1.0};

template <class Act>
constexpr Activation entry(std::string_view name, std::string_view description,
                           std::string_view formula, double (*max_slope)(double),
                           bool (*dead_zone)(double), std::string_view auto_init,
                           std::span<const double> kinks = {}, bool uses_param = false,
                           OutputRange range = {}) {
  return {name,
          description,
          formula,
          max_slope,
          dead_zone,
          auto_init,
          uses_param,
          kinks,
          {&kernel<Act, float>, &forward_kernel<Act, float>, slope_exponent_of<Act, float>(),
           scaled_slope_of<Act, float>()},
          {&kernel<Act, double>, &forward_kernel<Act, double>, slope_exponent_of<Act, double>(),
           scaled_slope_of<Act, double>()},
          range};
}

constexpr OutputRange kUnitInterval{0, 1}, kSymmetric{-1, 1};

constexpr auto kNever = [](double) { return false; };
constexpr auto kAlways = [](double) { return true; };
template <int Num, int Den = 1>
constexpr auto kSlope = [](double) { return double(Num) / Den; };

const Activation kActivations[] = {
    entry<Sigmoid>("sigmoid", "logistic, squashes to (0,1); slope at most 1/4; not zero-centred",
                   "1/(1+exp(-x))", kSlope<1, 4>, kNever, "xavier_normal", {}, false, kUnitInterval),
    entry<Tanh>("tanh", "squashes to (-1,1); zero-centred, but saturates", "tanh(x)", kSlope<1>,
                kNever, "xavier_normal", {}, false, kSymmetric),
    entry<Relu>("relu", "max(0,x): cheap, no saturation for x>0, zero slope for x<0 (dead units)",
                "max(0,x)", kSlope<1>, kAlways, "he_normal", kAtZero),
    entry<LeakyRelu>(
        "leaky_relu", "relu with slope --leaky-slope (default 0.01) for x<0: no dead zone",
        "x if x>0 else s*x", [](double s) { return std::max(1.0, std::abs(s)); },
        [](double s) { return s == 0.0; }, "he_normal", kAtZero, true),
    entry<Elu>("elu", "x for x>0, exp(x)-1 below (alpha 1): smooth, saturates to -1",
               "x if x>0 else exp(x)-1", kSlope<1>, kNever, "he_normal", kAtZero),
    entry<Selu>("selu", "scaled elu (Klambauer et al. 2017): self-normalising with lecun_normal",
                "l*x if x>0 else l*a*(exp(x)-1)", [](double) { return kSeluLambda * kSeluAlpha; },
                kNever, "lecun_normal", kAtZero),
    entry<Gelu>("gelu", "x*Phi(x), exact erf form (Hendrycks & Gimpel 2016)", "x*Phi(x)",
                [](double) { return 1.1289041451851547; },  // at x = sqrt(2)
                kNever, "he_normal"),
    entry<Silu>("silu", "x*sigmoid(x), a.k.a. swish", "x/(1+exp(-x))",
                [](double) { return 1.0998393201288665; },  // at x = 2.3994
                kNever, "he_normal"),
    entry<Softplus>("softplus", "log(1+exp(x)): a smooth relu", "log(1+exp(x))", kSlope<1>, kNever,
                    "xavier_normal"),
    entry<Softsign>("softsign", "x/(1+|x|): like tanh with polynomial tails", "x/(1+|x|)",
                    kSlope<1>, kNever, "xavier_normal", kAtZero, false, kSymmetric),
    entry<HardTanh>("hard_tanh", "clip(x,-1,1): slope exactly 0 outside (-1,1)", "clip(x,-1,1)",
                    kSlope<1>, kAlways, "xavier_normal", kAtOnes, false, kSymmetric),
    entry<Identity>("identity", "x: a deep linear network, the control", "x", kSlope<1>, kNever,
                    "xavier_normal"),
};

}  // namespace

std::span<const Activation> activations() { return kActivations; }

const Activation* find_activation(std::string_view name) {
  for (const Activation& a : kActivations)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<std::string> activation_names() {
  std::vector<std::string> names;
  for (const Activation& a : kActivations) names.emplace_back(a.name);
  return names;
}

}  // namespace gf
