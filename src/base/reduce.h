#pragma once
// Sums and counts over a contiguous run of values, in double, fast and in a fixed order.
//
// A plain `for` loop that adds into one double runs at one element per add latency (about 4
// cycles): the compiler may not reorder floating-point additions, so it cannot vectorise it,
// and Eigen does not vectorise reductions of a float-to-double cast either. Here kLanes partial
// sums are kept (lane l takes elements l, l + kLanes, ...) and added pairwise at the end, so
// the lane loop vectorises without any reordering the language forbids. The order depends
// only on n: every result is the same for any thread count, as gradflow promises.
#include <cmath>

#include "base/tensor.h"

namespace gf::reduce {

inline constexpr int kLanes = 16;

// Pairwise total of the kLanes partial sums, then the tail elements in order.
inline double combine(double (&acc)[kLanes], double tail) {
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0] + tail;
}

// sum over i < n of term(i), each term computed once, in order of i (so a term may also write:
// a statistic fused into a pass that already touches the data is the same double as a separate
// pass's).
template <class F>
double sum_of_terms(Index n, F term) {
  double acc[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += term(i + l);
  double tail = 0;
  for (; i < n; ++i) tail += term(i);
  return combine(acc, tail);
}

// sum over i < n of f(double(x[i])).
template <class T, class F>
double sum(const T* x, Index n, F f) {
  return sum_of_terms(n, [x, &f](Index i) { return f(static_cast<double>(x[i])); });
}

template <class T>
double sum(const T* x, Index n) {
  return sum(x, n, [](double v) { return v; });
}

template <class T>
double sum_squares(const T* x, Index n) {
  return sum(x, n, [](double v) { return v * v; });
}

// Number of i < n with pred(x[i]).
template <class T, class P>
Index count(const T* x, Index n, P pred) {
  Index acc[kLanes] = {};
  Index i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += pred(x[i + l]) ? 1 : 0;
  Index total = 0;
  for (; i < n; ++i) total += pred(x[i]) ? 1 : 0;
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  return total;
}

}  // namespace gf::reduce
