#pragma once
// The Gaussian expectations mean-field theory is made of, for one activation phi: over one
// pre-activation h ~ N(mu, v), and over the pre-activations (h1, h2) of two inputs, both
// N(mu, v) with correlation c. phi and phi' come from the activation table's f64 kernel,
// evaluated on quadrature nodes (quadrature.h); where a closed form exists (relu, leaky_relu,
// identity with mu = 0) it is used instead, and the tests hold the two against each other.
#include <string_view>
#include <vector>

#include "core/activation.h"

namespace gf {

// An activation with its parameter (--leaky-slope).
struct Phi {
  const Activation* act = nullptr;
  double param = 0.01;
  // a = phi(h), d = phi'(h) for every h.
  void eval(const std::vector<double>& h, std::vector<double>& a, std::vector<double>& d) const;
  double value(double h) const;
  double slope(double h) const;
};
// The activation called `name` (one of the table's) with parameter `param`.
inline Phi phi_of(const char* name, double param = 0.01) { return {find_activation(name), param}; }

// Over h = mu + sqrt(v) z, z ~ N(0, 1).
struct Moments1 {
  double phi = 0;      // E[phi(h)]
  double phi2 = 0;     // E[phi(h)^2]
  double dphi2 = 0;    // E[phi'(h)^2]
  double dphi4 = 0;    // E[phi'(h)^4]: the spread of the squared slopes (jacobian_theory.h)
  double dphi2_dv = 0; // d E[phi(h)^2] / dv = E[phi(h) phi'(h) z] / sqrt(v) (= E[phi'^2 + phi phi''])
  double zdphi2 = 0;   // E[z phi'(h)^2] and
  double z2dphi2 = 0;  // E[z^2 phi'(h)^2]: how much of a gradient a norm's Jacobian removes (mean_field.cc)
};

// Over (h1, h2), each N(mu, v), correlation c.
struct Moments2 {
  double phiphi = 0;    // E[phi(h1) phi(h2)]
  double dphidphi = 0;  // E[phi'(h1) phi'(h2)] = d E[phi(h1) phi(h2)] / d(c v)  (Price's theorem)
};

enum class ExpectMethod { automatic, quadrature };

// automatic: the closed form when there is one for phi at this mu, else quadrature.
Moments1 expect1(const Phi& phi, double mu, double v, ExpectMethod m = ExpectMethod::automatic);
Moments2 expect2(const Phi& phi, double mu, double v, double c, ExpectMethod m = ExpectMethod::automatic);

// "closed form" or "quadrature": what expect1/expect2 use for phi at this mu.
std::string_view expect_method_name(const Phi& phi, double mu);

// The closed forms on their own (nullopt-like: false when there is none), for the tests.
bool closed_form1(const Phi& phi, double v, Moments1& out);
bool closed_form2(const Phi& phi, double v, double c, Moments2& out);

}  // namespace gf
