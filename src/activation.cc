#include "activation.h"

#include <cmath>
#include <limits>
#include <unsupported/Eigen/SpecialFunctions>

#include "portable_math.h"

namespace gf {
namespace {

template <class T>
using In = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Scratch arrays of the slice's length, for the kernels' intermediate values.
template <class T>
struct Scratch {
  Out<T> t, u, v, w;
};

// Eigen's select takes at most one scalar branch; this makes the other one an expression.
template <class T>
auto constant(const In<T>& like, T v) {
  return Eigen::Array<T, Eigen::Dynamic, 1>::Constant(like.size(), v);
}

// Every exponential below goes through portable_math.h, whose result for an input is the same
// on every build and at every place in the array (the contract is written there). Eigen's own
// exp, expm1, log1p and tanh are not: they differ between AVX-512, AVX2 and SSE2 builds and
// between the vector body and the scalar tail of one array. This file is compiled with
// -ffp-contract=off (CMakeLists.txt), so the arithmetic around them is the same everywhere too.
template <class T, class E>
void set_exp(Out<T> out, const E& x) {
  out = x;
  exp_inplace(out.data(), out.size());
}
template <class T, class E>
void set_expm1(Out<T> out, const E& x) {
  out = x;
  expm1_inplace(out.data(), out.size());
}
// e = exp(x), m = expm1(x) from one reduction; x goes through `arg`.
template <class T, class E>
void set_exp_expm1(Out<T> e, Out<T> m, Out<T> arg, const E& x) {
  arg = x;
  exp_expm1(arg.data(), e.data(), m.data(), arg.size());
}

// Where the forward-only kernel sends phi'(h): nowhere. Eigen expressions are lazy, so
// `d = expression` on a Discard never computes the expression.
struct Discard {
  template <class E>
  Discard& operator=(const E&) { return *this; }
  void setOnes() {}
};

template <class D>
constexpr bool kDiscarded = std::is_same_v<D, Discard>;

// Each activation is a struct with eval(h, a, d, s, p): h in, a and d out (d may alias h, so
// a is written first and d last), s scratch arrays of the same length, p the parameter.
// d is a template parameter so that the forward-only kernel can pass a Discard.
// Derivatives are formed so that they stay accurate where phi' is tiny: sigmoid' as
// e/(1+e)^2 with e = exp(-|h|), not a(1-a), which rounds to 0 in f32 beyond |h| = 17.
// Where phi' has a tail that can fall below the float range, the struct also has
// slope_exponent(h) = g(h) and scaled_slope(h, d, s, shift, e^shift) = phi'(h) e^shift, written
// as C(h) e^(g(h) + shift) so that nothing underflows when shift = -max g (see activation.h).

struct Sigmoid {  // phi' = e / (1 + e)^2, e = exp(-|h|)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    set_exp(s.t, -h.abs());
    a = (h >= T(0)).select(T(1), s.t) / (T(1) + s.t);
    d = s.t / (T(1) + s.t).square();
  }
  template <class T>
  static T slope_exponent(T h) { return -std::abs(h); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T) {
    set_exp(s.t, -h.abs());
    set_exp(s.u, shift - h.abs());
    d = s.u / (T(1) + s.t).square();
  }
};

struct Tanh {  // tanh|h| = -m / (2 + m), m = expm1(-2|h|); phi' = 4e / (1 + e)^2, e = exp(-2|h|)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    if constexpr (kDiscarded<D>) set_expm1(s.u, T(-2) * h.abs());
    else set_exp_expm1(s.t, s.u, s.v, T(-2) * h.abs());
    a = (h < T(0)).select(s.u, -s.u) / (T(2) + s.u);
    d = T(4) * s.t / (T(1) + s.t).square();
  }
  template <class T>
  static T slope_exponent(T h) { return T(-2) * std::abs(h); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T) {
    set_exp(s.t, T(-2) * h.abs());
    set_exp(s.u, shift - T(2) * h.abs());
    d = T(4) * s.u / (T(1) + s.t).square();
  }
};

struct Relu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T>, T) {
    a = h.max(T(0));
    // relu'(0) = 0, as in PyTorch. select, not a cast of the comparison: Eigen vectorises it.
    d = (h > T(0)).select(constant(h, T(1)), T(0));
  }
};

struct LeakyRelu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T>, T slope) {
    a = (h > T(0)).select(h, slope * h);
    d = (h > T(0)).select(constant(h, T(1)), slope);
  }
};

struct Elu {  // alpha = 1; phi' = exp(min(h, 0)), which is 1 for h > 0
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    // exp and expm1 go through scratch arrays, not inside select(): Eigen evaluates a select
    // one scalar at a time, while the arrays are vectorised.
    if constexpr (kDiscarded<D>) set_expm1(s.u, h.min(T(0)));
    else set_exp_expm1(s.t, s.u, s.v, h.min(T(0)));
    a = (h > T(0)).select(h, s.u);
    d = s.t;
  }
  template <class T>
  static T slope_exponent(T h) { return std::min(h, T(0)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T) {
    set_exp(s.t, h.min(T(0)) + shift);
    d = s.t;
  }
};

// Klambauer et al. 2017, the constants that make N(0,1) a fixed point under lecun_normal.
constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

struct Selu {  // phi' = lambda for h > 0, lambda alpha exp(h) below
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    const T la = T(kSeluLambda * kSeluAlpha);
    if constexpr (kDiscarded<D>) set_expm1(s.u, h.min(T(0)));
    else set_exp_expm1(s.t, s.u, s.v, h.min(T(0)));
    a = (h > T(0)).select(T(kSeluLambda) * h, la * s.u);
    d = (h > T(0)).select(T(kSeluLambda), la * s.t);
  }
  template <class T>
  static T slope_exponent(T h) { return std::min(h, T(0)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T) {
    set_exp(s.t, h.min(T(0)) + shift);  // e^shift where h > 0
    d = (h > T(0)).select(T(kSeluLambda) * s.t, T(kSeluLambda * kSeluAlpha) * s.t);
  }
};

// gelu = h Phi(h), exact (erfc, accurate in the left tail); phi' = Phi(h) + h exp(-h^2/2)/sqrt(2pi).
constexpr double kDensity = 0.5 * M_2_SQRTPI * M_SQRT1_2;  // 1/sqrt(2 pi)

// f32: Eigen 3.4's erfc calls the C library one element at a time (18 ns, 130x relu), so f32
// uses Numerical Recipes' erfcc, vectorised: for z >= 0, erfc(z) = u exp(-z^2) exp(P(u)) with
// u = 1/(1 + z/2), relative error below 1.2e-7 for every z. Here z = |h|/sqrt2, and exp(-z^2) =
// exp(-h^2/2) is taken as exp(-hi^2/2) exp(-(|h| - hi)(|h| + hi)/2) with hi = |h| rounded down
// to a multiple of 1/16: hi^2/2 is exact, so the tail keeps f32's accuracy (rounding h^2 would
// cost h^2 ulp). Then Phi(h) = erfc(-h/sqrt2)/2: with E = erfc(|h|/sqrt2), E/2 for h <= 0 and
// 1 - E/2 above. With a shift, exp(-h^2/2) and E carry e^shift, and so do Phi and phi'.
// Writes Phi(h) e^shift to `phi` (a, or scratch) and, if `slope`, phi' e^shift to s.t (the
// caller moves it to d, which may alias h, once it is done with h).
void gelu_f32(In<float> h, Out<float> phi, bool slope, Scratch<float> s, float shift, float exp_shift) {
  const auto x = h.abs().min(1e30f);  // keeps x + hi finite
  const auto hi = (x * 16.0f).floor() * 0.0625f;
  set_exp(s.t, shift - 0.5f * hi.square());
  set_exp(s.u, -0.5f * (x - hi) * (x + hi));
  s.t *= s.u;                                          // t: exp(-h^2/2) e^shift
  s.u = 1.0f / (1.0f + float(0.5 * M_SQRT1_2) * x);    // u: NR's u
  s.v = -1.26551223f +
        s.u * (1.00002368f +
               s.u * (0.37409196f +
                      s.u * (0.09678418f +
                             s.u * (-0.18628806f +
                                    s.u * (0.27886807f +
                                           s.u * (-1.13520398f +
                                                  s.u * (1.48851587f +
                                                         s.u * (-0.82215223f + s.u * 0.17087277f))))))));
  exp_inplace(s.v.data(), s.v.size());
  s.v = s.u * s.t * s.v;                                          // v: E e^shift
  phi = (h > 0.0f).select(exp_shift - 0.5f * s.v, 0.5f * s.v);  // Phi e^shift
  if (slope) s.t = phi + h * s.t * float(kDensity);              // t: phi' e^shift
}

// f64, below -30: Phi(h) = phi(h) R(|h|), R the Mills ratio, from its asymptotic series
// 1/z (1 - 1/z^2 + 3/z^4 - ...), 1e-14 at z = 30; so phi' = exp(-h^2/2)/sqrt(2pi) (R - |h|).
constexpr double kGeluTail = -30;

struct Gelu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    if constexpr (std::is_same_v<T, float>) {
      gelu_f32(h, a, !kDiscarded<D>, s, 0.0f, 1.0f);
      a = h * a;
      d = s.t;  // last: d may alias h
    } else {
      s.t = T(0.5) * (T(-M_SQRT1_2) * h).erfc();  // the C library's erfc, element by element
      a = h * s.t;
      if constexpr (!kDiscarded<D>) {
        set_exp(s.u, T(-0.5) * h.square());
        d = s.t + h * s.u * T(kDensity);
      }
    }
  }
  template <class T>
  static T slope_exponent(T h) { return T(-0.5) * std::min(h, T(0)) * std::min(h, T(0)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T exp_shift) {
    if constexpr (std::is_same_v<T, float>) {
      gelu_f32(h, s.w, true, s, shift, exp_shift);
      d = s.t;
    } else {
      s.t = T(0.5) * (T(-M_SQRT1_2) * h).erfc() * exp_shift;  // Phi e^shift (unused in the tail)
      set_exp(s.u, shift - T(0.5) * h.square());             // exp(-h^2/2) e^shift
      const auto z2 = h.square();
      s.v = (T(1) - (T(1) - (T(3) - (T(15) - (T(105) - T(945) / z2) / z2) / z2) / z2) / z2) /
                h.abs() -
            h.abs();                                          // R - |h|
      d = (h < T(kGeluTail)).select(s.u * s.v * T(kDensity), s.t + h * s.u * T(kDensity));
    }
  }
};

struct Silu {  // x sigmoid(x); phi' = sigmoid(h) + h e / (1 + e)^2, e = exp(-|h|)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    set_exp(s.t, -h.abs());
    a = h * (h >= T(0)).select(T(1), s.t) / (T(1) + s.t);
    d = (h >= T(0)).select(T(1), s.t) / (T(1) + s.t) + h * s.t / (T(1) + s.t).square();
  }
  template <class T>
  static T slope_exponent(T h) { return std::min(h, T(0)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T exp_shift) {
    set_exp(s.t, -h.abs());
    set_exp(s.u, shift - h.abs());
    d = (h >= T(0)).select(exp_shift, s.u) / (T(1) + s.t) + h * s.u / (T(1) + s.t).square();
  }
};

struct Softplus {  // log(1 + exp(h)) = log1p(e) + max(h, 0), e = exp(-|h|); phi' = sigmoid(h)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    set_exp(s.t, -h.abs());
    s.u = s.t;
    log1p_inplace(s.u.data(), s.u.size());
    a = s.u + h.max(T(0));
    d = (h >= T(0)).select(T(1), s.t) / (T(1) + s.t);
  }
  template <class T>
  static T slope_exponent(T h) { return std::min(h, T(0)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T> s, T shift, T exp_shift) {
    set_exp(s.t, -h.abs());
    set_exp(s.u, shift - h.abs());
    d = (h >= T(0)).select(exp_shift, s.u) / (T(1) + s.t);
  }
};

struct Softsign {  // phi' = 1 / (1 + |h|)^2
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T> s, T) {
    s.t = T(1) + h.abs();
    a = h / s.t;
    d = s.t.square().inverse();
  }
  template <class T>
  static T slope_exponent(T h) { return T(-2) * std::log1p(std::abs(h)); }
  template <class T>
  static void scaled_slope(In<T> h, Out<T> d, Scratch<T>, T shift, T) {
    T half = shift / T(2);  // e^(shift/2) / (1 + |h|), squared: e^shift would overflow first
    exp_inplace(&half, 1);
    d = (half / (T(1) + h.abs())).square();
  }
};

struct HardTanh {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T>, T) {
    a = h.max(T(-1)).min(T(1));
    d = (h.abs() < T(1)).select(constant(h, T(1)), T(0));  // slope 0 at +-1 and beyond, as in PyTorch
  }
};

struct Identity {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Scratch<T>, T) {
    a = h;
    d.setOnes();
  }
};

// Runs a kernel over n values in slices that fit the stack scratch arrays.
constexpr Index kSlice = 1024;

template <class T, class F>
void in_slices(Index n, F f) {
  alignas(64) T scratch[4][kSlice];
  for (Index i = 0; i < n; i += kSlice) {
    const Index m = std::min(kSlice, n - i);
    f(i, m, Scratch<T>{Out<T>(scratch[0], m), Out<T>(scratch[1], m), Out<T>(scratch[2], m),
                       Out<T>(scratch[3], m)});
  }
}

// An activation whose slope has a tail (slope_exponent) goes through exp, and hands on no
// subnormal number: phi and phi' are normal numbers or exactly 0 (portable_math.h).
template <class Act>
constexpr bool kHasTail = requires { Act::template slope_exponent<float>(0.0f); };

template <class Act, class T>
void flush(Out<T> v) {
  if constexpr (kHasTail<Act>) flush_subnormals(v.data(), v.size());
}

template <class Act, class T>
void kernel(const T* h, T* a, T* d, Index n, double param) {
  in_slices<T>(n, [&](Index i, Index m, Scratch<T> s) {
    Act::template eval<T>(In<T>(h + i, m), Out<T>(a + i, m), Out<T>(d + i, m), s, static_cast<T>(param));
    flush<Act, T>(Out<T>(a + i, m));
    flush<Act, T>(Out<T>(d + i, m));
  });
}

// The same code without phi' (what inference would run): `gradflow bench` times both.
template <class Act, class T>
void forward_kernel(const T* h, T* a, Index n, double param) {
  in_slices<T>(n, [&](Index i, Index m, Scratch<T> s) {
    Act::template eval<T>(In<T>(h + i, m), Out<T>(a + i, m), Discard{}, s, static_cast<T>(param));
    flush<Act, T>(Out<T>(a + i, m));
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
  T exp_s = s;
  exp_inplace(&exp_s, 1);
  in_slices<T>(n, [&](Index i, Index m, Scratch<T> scratch) {
    Act::template scaled_slope<T>(In<T>(h + i, m), Out<T>(d + i, m), scratch, s, exp_s);
    flush<Act, T>(Out<T>(d + i, m));
  });
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
                           std::span<const double> kinks = {}, bool uses_param = false) {
  return {name,
          description,
          formula,
          max_slope,
          dead_zone,
          auto_init,
          uses_param,
          kinks,
          &kernel<Act, float>,
          &kernel<Act, double>,
          &forward_kernel<Act, float>,
          &forward_kernel<Act, double>,
          slope_exponent_of<Act, float>(),
          slope_exponent_of<Act, double>(),
          scaled_slope_of<Act, float>(),
          scaled_slope_of<Act, double>()};
}

constexpr auto kNever = [](double) { return false; };
constexpr auto kAlways = [](double) { return true; };
template <int Num, int Den = 1>
constexpr auto kSlope = [](double) { return double(Num) / Den; };

const Activation kActivations[] = {
    entry<Sigmoid>("sigmoid", "logistic, squashes to (0,1); slope at most 1/4; not zero-centred",
                   "1/(1+exp(-x))", kSlope<1, 4>, kNever, "xavier_normal"),
    entry<Tanh>("tanh", "squashes to (-1,1); zero-centred, but saturates", "tanh(x)", kSlope<1>,
                kNever, "xavier_normal"),
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
                    kSlope<1>, kNever, "xavier_normal", kAtZero),
    entry<HardTanh>("hard_tanh", "clip(x,-1,1): slope exactly 0 outside (-1,1)", "clip(x,-1,1)",
                    kSlope<1>, kAlways, "xavier_normal", kAtOnes),
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
