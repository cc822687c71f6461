#pragma once
// Finite-difference checks shared by the gradient tests: every gradient the engine computes is
// compared with differences of an independent reference loss (closed_forms.h).
#include <algorithm>
#include <cmath>

namespace gf::test {

// Fourth-order central difference of f at 0.
template <class F>
double derivative(F&& f, double h = 1e-4) {
  return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
}

// Relative error, with entries below 1e-5 compared absolutely: the difference quotient's
// rounding noise is about 1e-16 |loss| / h = 1e-12, which is 1e-6 of 1e-6 (leaky_relu's x<0
// slope makes such entries common).
inline double rel_err(double a, double n) { return std::abs(a - n) / std::max({std::abs(a), std::abs(n), 1e-5}); }

// The largest rel_err over the entries of x (a matrix or vector the reference `loss()` reads)
// between `grad` (same shape) and differences of loss() in that entry; adds each difference
// quotient squared to *fd_sumsq when given (a norm by differences).
template <class X, class G, class F>
double worst_entry_error(X& x, const G& grad, F&& loss, double* fd_sumsq = nullptr) {
  double worst = 0;
  for (decltype(x.rows()) i = 0; i < x.rows(); ++i) {
    for (decltype(x.cols()) j = 0; j < x.cols(); ++j) {
      const double x0 = x(i, j);
      const double fd = derivative([&](double e) {
        x(i, j) = x0 + e;
        const double v = loss();
        x(i, j) = x0;
        return v;
      });
      worst = std::max(worst, rel_err(grad(i, j), fd));
      if (fd_sumsq) *fd_sumsq += fd * fd;
    }
  }
  return worst;
}

}  // namespace gf::test
