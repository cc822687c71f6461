#pragma once
// The activation table: every activation gradflow knows, in one place. --activation's choices,
// --help, `gradflow list`, the engine's kernels, the theory's integrals and the tests all read
// it, so adding an activation means adding one struct and one table line in activation.cc.
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/tensor.h"

namespace gf {

// a = phi(h) and d = phi'(h) over n contiguous values. d may alias h (the engine computes the
// derivative in place of the pre-activation); a never aliases either.
template <class T>
using ActivationKernel = void (*)(const T* h, T* a, T* d, Index n, double param);
// a = phi(h) alone: the same code with phi' left out (for `gradflow bench`).
template <class T>
using ForwardKernel = void (*)(const T* h, T* a, Index n, double param);
// Where phi' can fall below the float range (a smooth tail), phi'(h) = C(h) e^g(h) with C of
// order 1 there. max g(h) over n values, and d = phi'(h) e^shift over n values without
// underflow (d may alias h): with them the engine takes the slope's scale out of a layer whose
// slopes underflow, and its gradients stay exact (core/op_dense.cc).
template <class T>
using SlopeExponentKernel = double (*)(const T* h, Index n);
template <class T>
using ScaledSlopeKernel = void (*)(const T* h, T* d, Index n, double shift);

// One dtype's kernels of an activation.
template <class T>
struct Kernels {
  ActivationKernel<T> phi_and_slope;
  ForwardKernel<T> phi;
  // nullptr where phi' is never that small (relu, leaky_relu, hard_tanh, identity).
  SlopeExponentKernel<T> slope_exponent;
  ScaledSlopeKernel<T> scaled_slope;
};

// The values phi takes, for bounded activations: saturation by value (--saturated-when V) means
// |phi(h) - centre| > V x half the range, i.e. |tanh(h)| > V, or sigmoid(h) within (1-V)/2 of 0 or 1.
struct OutputRange {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool bounded() const { return std::isfinite(lo) && std::isfinite(hi); }
};

struct Activation {
  std::string_view name;
  std::string_view description;  // one line, for --help and `gradflow list`
  std::string_view formula;      // phi(x), as printed by `gradflow list`
  // sup |phi'(x)|: "saturated" means |phi'(h)| below sat_eps times this.
  double (*max_slope)(double param);
  // phi' is exactly 0 on part of the line, so units can be inactive (and dead on a whole batch).
  bool (*has_dead_zone)(double param);
  std::string_view auto_init;  // what --init auto picks
  bool uses_param;             // reads --leaky-slope
  // Where phi or phi' is not smooth (relu's 0, hard_tanh's +-1): the theory's quadrature splits
  // its integrals there, and reads dead zones off the pieces between them.
  std::span<const double> kinks;
  Kernels<float> f32;
  Kernels<double> f64;
  OutputRange range;

  template <class T>
  const Kernels<T>& kernels() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else return f64;
  }
};

std::span<const Activation> activations();
const Activation* find_activation(std::string_view name);  // nullptr if unknown
std::vector<std::string> activation_names();

}  // namespace gf
