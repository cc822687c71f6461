#include "base/portable_math.h"

// Compiled with -ffp-contract=off -fno-trapping-math (CMakeLists.txt): see the header.

namespace gf {

template <class T>
void exp_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = exp_of(x[i]);
}

template <class T>
void expm1_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = expm1_of(x[i]);
}

template <class T>
void log1p_inplace(T* x, Index n) {
  for (Index i = 0; i < n; ++i) x[i] = log1p_of(x[i]);
}

template <class T>
void exp_expm1(const T* x, T* e, T* m, Index n) {
  for (Index i = 0; i < n; ++i) {
    const ExpPair<T> p = exp_expm1_of(x[i]);
    e[i] = p.e;
    m[i] = p.m;
  }
}

template void exp_inplace<float>(float*, Index);
template void exp_inplace<double>(double*, Index);
template void expm1_inplace<float>(float*, Index);
template void expm1_inplace<double>(double*, Index);
template void log1p_inplace<float>(float*, Index);
template void log1p_inplace<double>(double*, Index);
template void exp_expm1<float>(const float*, float*, float*, Index);
template void exp_expm1<double>(const double*, double*, double*, Index);

}  // namespace gf
