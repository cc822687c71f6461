#pragma once
// exp, expm1 and log1p over arrays, with one result for an input on every x86-64 build.
//
// The contract, which every activation kernel's exponential goes through (activation.cc):
//  - The result depends on the input alone: not on the build's instruction set (SSE2, AVX2,
//    AVX-512), not on where the element sits in the array (a vector lane or the scalar tail),
//    not on the C library. Each function is one scalar formula of IEEE additions,
//    multiplications and divisions and integer bit operations, compiled with -ffp-contract=off
//    (CMakeLists.txt) so that no build fuses a multiply and an add, and vectorised by the
//    compiler from that scalar loop: a vector lane computes exactly what the scalar code does.
//    Eigen's own exp differs per instruction set (AVX-512 flushes below -88.4, the generic path
//    clamps at -88.7 and returns 2.9e-39 for every smaller x, the scalar tail calls the C
//    library, FMA builds round differently), which is why gradflow does not use it here.
//  - exp(x) is within 2 ulp of e^x (measured on every f32 input: 1.03 ulp at worst) where e^x
//    is a normal number; below that it underflows gradually, correctly rounded to the subnormal
//    grid, to exactly 0 below -103.97 (f32) or -745.13 (f64); +inf above the largest number.
//  - expm1(x) = e^x - 1 within 2 ulp for every x (f32, every input: 1.77 ulp); a subnormal x
//    is returned as it is.
//  - log1p(x) = ln(1 + x) within 2 ulp for 0 <= x <= 1 (f32: 1.97 ulp), what softplus needs.
//  - NaN in, NaN out.
// The kernels then hand on no subnormal number (flush_subnormals on phi and phi', activation.cc):
// a value is a normal number within a few ulp of the truth, or exactly 0 where the truth is
// below the smallest normal number. Subnormals carry few digits anyway, and a matrix product
// with subnormal inputs runs 160 times slower on this Xeon. gradflow reports slopes that fall
// there (slope_underflow_frac) and keeps the gradients exact by computing them again with
// their scale taken out (engine.cc). f64 checks sample the range; tests/portable_math_test.cc.
#include "tensor.h"

namespace gf {

template <class T>
void exp_inplace(T* x, Index n);
template <class T>
void expm1_inplace(T* x, Index n);
template <class T>
void log1p_inplace(T* x, Index n);
// e = exp(x) and m = expm1(x) from one argument reduction (tanh, elu and selu need both), the
// same values as the two functions above. The three arrays are distinct.
template <class T>
void exp_expm1(const T* x, T* e, T* m, Index n);

// x = 0 where |x| is below T's smallest normal number: no subnormal leaves a kernel.
template <class T>
void flush_subnormals(T* x, Index n);

}  // namespace gf
