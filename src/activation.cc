#include "activation.h"

#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

namespace gf {
namespace {

template <class T>
using In = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using Out = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Eigen's select takes at most one scalar branch; this makes the other one an expression.
template <class T>
auto constant(const In<T>& like, T v) {
  return Eigen::Array<T, Eigen::Dynamic, 1>::Constant(like.size(), v);
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

// Each activation is a struct with eval(h, a, d, t, p): h in, a and d out (d may alias h, so
// a is written first and d last), t a scratch array of the same length, p the parameter.
// d is a template parameter so that the forward-only kernel can pass a Discard.
// Derivatives are formed so that they stay accurate where phi' is tiny: sigmoid' as
// e/(1+e)^2 with e = exp(-|h|), not a(1-a), which rounds to 0 in f32 beyond |h| = 17.

struct Sigmoid {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    t = (-h.abs()).exp();
    a = (h >= T(0)).select(T(1), t) / (T(1) + t);
    d = t / (T(1) + t).square();
  }
};

struct Tanh {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    a = h.tanh();
    t = (T(-2) * h.abs()).exp();
    d = T(4) * t / (T(1) + t).square();
  }
};

struct Relu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T>, T) {
    a = h.max(T(0));
    // relu'(0) = 0, as in PyTorch. select, not a cast of the comparison: Eigen vectorises it.
    d = (h > T(0)).select(constant(h, T(1)), T(0));
  }
};

struct LeakyRelu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T>, T slope) {
    a = (h > T(0)).select(h, slope * h);
    d = (h > T(0)).select(constant(h, T(1)), slope);
  }
};

struct Elu {  // alpha = 1
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    // exp and expm1 go through t, not inside select(): Eigen evaluates a select one scalar at a
    // time, calling the C library's expm1f per element (12 ns); on an array they are vectorised.
    t = h.min(T(0)).expm1();
    a = (h > T(0)).select(h, t);
    if constexpr (!kDiscarded<D>) {
      t = h.min(T(0)).exp();
      d = (h > T(0)).select(T(1), t);
    }
  }
};

// Klambauer et al. 2017, the constants that make N(0,1) a fixed point under lecun_normal.
constexpr double kSeluLambda = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

struct Selu {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    const T la = T(kSeluLambda * kSeluAlpha);
    t = h.min(T(0)).expm1();  // outside select(), as in Elu
    a = (h > T(0)).select(T(kSeluLambda) * h, la * t);
    if constexpr (!kDiscarded<D>) {
      t = h.min(T(0)).exp();
      d = (h > T(0)).select(T(kSeluLambda), la * t);
    }
  }
};

struct Gelu {  // exact: x Phi(x), Phi the standard normal CDF via erfc (accurate in the left tail)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    constexpr T kDensity = T(0.5 * M_2_SQRTPI * M_SQRT1_2);  // 1/sqrt(2 pi)
    if constexpr (std::is_same_v<T, float>) {
      // Eigen 3.4's erfc calls the C library one element at a time (18 ns, 130x relu), so f32
      // uses Numerical Recipes' erfcc, vectorised: for z >= 0, erfc(z) = u exp(-z^2) exp(P(u))
      // with u = 1/(1 + z/2), relative error below 1.2e-7 for every z. Here z = |h|/sqrt2, and
      // exp(-z^2) = exp(-h^2/2) is taken as exp(-hi^2/2) exp(-(|h| - hi)(|h| + hi)/2) with hi
      // = |h| rounded down to a multiple of 1/16: hi^2/2 is exact, so the tail keeps f32's
      // accuracy (rounding h^2 would cost h^2 ulp). Then Phi(h) = erfc(-h/sqrt2)/2: with E =
      // erfc(|h|/sqrt2), E/2 for h <= 0 and 1 - E/2 above.
      const auto x = h.abs();
      const auto hi = (x * 16.0f).floor() * 0.0625f;
      t = (-0.5f * hi.square()).exp() * (-0.5f * (x - hi) * (x + hi)).exp();  // t: exp(-h^2/2)
      a = 1.0f / (1.0f + float(0.5 * M_SQRT1_2) * x);  // a: u
      const auto p =
          -1.26551223f +
          a * (1.00002368f +
               a * (0.37409196f +
                    a * (0.09678418f +
                         a * (-0.18628806f +
                              a * (0.27886807f +
                                   a * (-1.13520398f +
                                        a * (1.48851587f + a * (-0.82215223f + a * 0.17087277f))))))));
      a = a * t * p.exp();                               // a: E
      if constexpr (!kDiscarded<D>) t = h * t;           // t: h exp(-h^2/2), exp not redone
      a = (h > 0.0f).select(1.0f - 0.5f * a, 0.5f * a);  // a: Phi(h)
      if constexpr (!kDiscarded<D>) t = a + t * kDensity;  // t: phi'
      a = h * a;
      d = t;  // last: d may alias h
    } else {
      t = T(0.5) * (T(-M_SQRT1_2) * h).erfc();
      a = h * t;
      d = t + h * (T(-0.5) * h.square()).exp() * kDensity;
    }
  }
};

struct Silu {  // x sigmoid(x)
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    t = (-h.abs()).exp();
    a = h * (h >= T(0)).select(T(1), t) / (T(1) + t);
    d = (h >= T(0)).select(T(1), t) / (T(1) + t) + h * t / (T(1) + t).square();
  }
};

struct Softplus {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    t = (-h.abs()).exp();
    a = t.log1p() + h.max(T(0));
    d = (h >= T(0)).select(T(1), t) / (T(1) + t);
  }
};

struct Softsign {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T> t, T) {
    t = T(1) + h.abs();
    a = h / t;
    d = t.square().inverse();
  }
};

struct HardTanh {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T>, T) {
    a = h.max(T(-1)).min(T(1));
    d = (h.abs() < T(1)).select(constant(h, T(1)), T(0));  // slope 0 at +-1 and beyond, as in PyTorch
  }
};

struct Identity {
  template <class T, class D>
  static void eval(In<T> h, Out<T> a, D d, Out<T>, T) {
    a = h;
    d.setOnes();
  }
};

// Runs Act over n values in slices that fit the stack scratch array.
constexpr Index kSlice = 1024;

template <class Act, class T>
void kernel(const T* h, T* a, T* d, Index n, double param) {
  alignas(64) T scratch[kSlice];
  for (Index i = 0; i < n; i += kSlice) {
    const Index m = std::min(kSlice, n - i);
    Act::template eval<T>(In<T>(h + i, m), Out<T>(a + i, m), Out<T>(d + i, m), Out<T>(scratch, m),
                          static_cast<T>(param));
  }
}

// The same code without phi' (what inference would run): `gradflow bench` times both.
template <class Act, class T>
void forward_kernel(const T* h, T* a, Index n, double param) {
  alignas(64) T scratch[kSlice];
  for (Index i = 0; i < n; i += kSlice) {
    const Index m = std::min(kSlice, n - i);
    Act::template eval<T>(In<T>(h + i, m), Out<T>(a + i, m), Discard{}, Out<T>(scratch, m),
                          static_cast<T>(param));
  }
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
          &kernel<Act, float>,
          &kernel<Act, double>,
          &forward_kernel<Act, float>,
          &forward_kernel<Act, double>,
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
