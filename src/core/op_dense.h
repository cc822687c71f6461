#pragma once
// A dense layer with its activation, the op OpKind::dense, forward and backward side by side.
// Op l: a_prev = A[l-1] (B, n_in), W = W[l] (n, n_in), b = b[l] (n),
//   forward   h = a_prev W^T + b, a = A[l] = phi_l(h) (B, n), D[l] = phi_l'(h) (B, n)
//   backward  d_h = d_a * phi_l'(h), d_W = d_h^T a_prev, d_b = sum over the batch of d_h,
//             d_a_prev = d_h W (not for l = 1, whose input is the data)
//   jacobian  d a / d a_prev = diag(phi_l'(h)) W at one sample, so J_l = diag(D[l] row k) W J_{l-1}
// Computed block by block of units (layer.h's kernels, parallel.h's blocks).
#include "core/jacobian_walk.h"
#include "core/pass.h"

namespace gf {

template <class T>
bool dense_forward(Pass<T>& pass, Index l);

template <class T>
bool dense_backward(Pass<T>& pass, Index l);

template <class T>
void dense_jacobian(JacobianWalk<T>& walk, Index l);

// The end of a forward computed block by block (ws.forward_parts): the blocks' statistics merged
// in block order into `total` and the layer's record; false, with overflow_layer = l, when a
// value is not finite. Shared by dense and dense_norm (op_norm.cc).
template <class T>
bool finish_forward(Pass<T>& pass, Index l, ForwardPartial& total);

}  // namespace gf
