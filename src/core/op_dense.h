#pragma once
// A dense layer with its activation, the op OpKind::dense, forward and backward side by side.
// Op l: a_prev = A[l-1] (B, n_in), W = W[l] (n, n_in), b = b[l] (n),
//   forward   h = a_prev W^T + b, a = A[l] = phi_l(h) (B, n), D[l] = phi_l'(h) (B, n)
//   backward  d_h = d_a * phi_l'(h), d_W = d_h^T a_prev, d_b = sum over the batch of d_h,
//             d_a_prev = d_h W (not for l = 1, whose input is the data)
// Computed block by block of units (layer.h's kernels, parallel.h's blocks).
#include "core/pass.h"

namespace gf {

template <class T>
bool dense_forward(Pass<T>& pass, Index l);

template <class T>
bool dense_backward(Pass<T>& pass, Index l);

}  // namespace gf
