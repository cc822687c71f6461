#pragma once
// The two ends of a residual block s' = s + alpha F(s) (layer_op.h's residual_stack), forward
// and backward side by side. Both are dense layers (op_dense.h) with the block's work around them.
// Block k, stream s = A[op.stream] (B, n), branch F = layers first..last, op = its last layer:
//   skip_add  forward   F = A[last] (linear), then A[last] = s' = s + alpha F; the block's record
//             backward  d s' waits in ws.skip_grad (the identity path); the branch gets alpha d s'
//   branch_in forward   a dense layer reading s
//             backward  d s = (the branch's d s) + d s', the two brought to one scale first
// analyze carries alpha in the log scale (alpha = 0, ReZero: scale -inf, an exactly zero branch
// gradient); train multiplies. References: He et al. 2016 (the block), Yang & Schoenholz 2017
// (residual mean field, alpha as their branch weight), Bachlechner et al. 2020 (ReZero: alpha 0).
#include "core/jacobian_walk.h"
#include "core/pass.h"

namespace gf {

template <class T>
bool skip_add_forward(Pass<T>& pass, Index l);

template <class T>
bool skip_add_backward(Pass<T>& pass, Index l);

// With a norm at --norm-position (op_norm.h): pre, branch_in's dense layer reads N(s); post,
// skip_add's output is N(s + alpha F(s)), and each backward goes through the norm first.
template <class T>
bool branch_in_forward(Pass<T>& pass, Index l);  // dense_forward, on N(s) for a pre-norm

template <class T>
bool branch_in_backward(Pass<T>& pass, Index l);

// --jacobian (jacobian_walk.h): branch_in keeps the stream's J = d s / d x and takes the dense
// step; skip_add takes the dense step (d F / d x) and writes d s' / d x = d s / d x + alpha d F / d x.
// A pre-norm's step comes before branch_in's dense step, a post-norm's after skip_add's sum (op_norm.h).
template <class T>
void branch_in_jacobian(JacobianWalk<T>& walk, Index l);

template <class T>
void skip_add_jacobian(JacobianWalk<T>& walk, Index l);

}  // namespace gf
