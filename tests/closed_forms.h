#pragma once
// Every activation and its derivative from the textbook formulas, written independently of
// src/core/activation.cc: the reference the activation, gradient and training tests check against.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>

namespace gf::test {

inline constexpr double kLeak = 0.01;
inline constexpr double kLambda = 1.0507009873554804934193349852946;
inline constexpr double kAlpha = 1.6732632423543772848170429916717;

inline double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
inline double phi_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
inline double sig(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

struct Closed {
  std::function<double(double)> f, df;
};

inline const std::map<std::string, Closed>& closed_forms() {
  static const std::map<std::string, Closed> m = {
      {"sigmoid", {sig, [](double x) { return sig(x) * sig(-x); }}},
      {"tanh", {[](double x) { return std::tanh(x); }, [](double x) { return 1 / std::pow(std::cosh(x), 2); }}},
      {"relu", {[](double x) { return x > 0 ? x : 0.0; }, [](double x) { return x > 0 ? 1.0 : 0.0; }}},
      {"leaky_relu",
       {[](double x) { return x > 0 ? x : kLeak * x; }, [](double x) { return x > 0 ? 1.0 : kLeak; }}},
      {"elu",
       {[](double x) { return x > 0 ? x : std::expm1(x); }, [](double x) { return x > 0 ? 1.0 : std::exp(x); }}},
      {"selu",
       {[](double x) { return kLambda * (x > 0 ? x : kAlpha * std::expm1(x)); },
        [](double x) { return kLambda * (x > 0 ? 1.0 : kAlpha * std::exp(x)); }}},
      {"gelu", {[](double x) { return x * Phi(x); }, [](double x) { return Phi(x) + x * phi_pdf(x); }}},
      {"silu",
       {[](double x) { return x * sig(x); }, [](double x) { return sig(x) * (1 + x * sig(-x)); }}},
      {"softplus",
       {[](double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }, sig}},
      {"softsign",
       {[](double x) { return x / (1 + std::abs(x)); },
        [](double x) { return 1 / ((1 + std::abs(x)) * (1 + std::abs(x))); }}},
      {"hard_tanh",
       {[](double x) { return std::clamp(x, -1.0, 1.0); },
        [](double x) { return std::abs(x) < 1 ? 1.0 : 0.0; }}},
      {"identity", {[](double x) { return x; }, [](double) { return 1.0; }}},
  };
  return m;
}

// E[f(z)], z ~ N(0, 1), by the trapezoid rule on [-12, 12]: independent of the theory's quadrature.
template <class F>
inline double gauss_mean(F f) {
  const int steps = 200000;
  const double a = -12, h = 24.0 / steps;
  double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const double z = a + i * h;
    sum += (i == 0 || i == steps ? 0.5 : 1.0) * f(z) * std::exp(-0.5 * z * z);
  }
  return sum * h / std::sqrt(2 * M_PI);
}

// phi(x) of the named activation (leaky_relu with slope kLeak).
inline double ref_phi(const std::string& name, double x) { return closed_forms().at(name).f(x); }

}  // namespace gf::test
