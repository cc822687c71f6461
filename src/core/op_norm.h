#pragma once
// A dense layer with a normalisation between the product and the activation, the op
// OpKind::dense_norm (h -> N(h) -> phi: BatchNorm's original place, Ioffe & Szegedy 2015),
// forward and backward side by side. Op l: a_prev = A[l-1] (B, n_in), W = W[l] (n, n_in),
// b = b[l], gain g = Params::gain[l] (n), shift beta = Params::shift[l] (n):
//   forward   h = a_prev W^T + b; x = (h - mu) / sigma; u = g x + beta (the activation's input,
//             whose statistics the layer's record carries); a = A[l] = phi(u), D[l] = phi'(u)
//   backward  d_u = d_a * phi'(u); d_g = sum over the batch of d_u x, d_beta = sum of d_u;
//             d_h = (1 / sigma) (d_x - mean(d_x) - x mean(d_x x)), d_x = g d_u (rms: no mean(d_x)
//             term); then the dense layer's backward from d_h (op_dense.h): d_W, d_b, d_a_prev
// The mean and sigma: batch (BatchNorm, PyTorch's training-mode forward) per unit over the
// batch, mu the batch mean and sigma^2 the biased batch variance + eps; layer (LayerNorm, Ba et
// al. 2016) per sample over the units, the same way; rms (RMSNorm, Zhang & Sennrich 2019) per
// sample, mu = 0 and sigma^2 = mean(h^2) + eps; affine (BatchNorm at its running statistics,
// layer_op.h) mu = 0 and sigma = 1, so d_h = d_x. With eps inside sigma the backward above is exact.
#include "core/jacobian_walk.h"
#include "core/pass.h"

namespace gf {

template <class T>
bool dense_norm_forward(Pass<T>& pass, Index l);

template <class T>
bool dense_norm_backward(Pass<T>& pass, Index l);

// Residual nets (--norm-position, op_residual.cc), on the same kernels:
// pre:  op l is a dense layer reading u = g N(A[l-1]) + beta instead of A[l-1] (branch_in: the
//       stream s stays in A[l-1] for the skip); backward leaves d loss / d A[l-1] of that path.
template <class T>
bool norm_input_forward(Pass<T>& pass, Index l);
template <class T>
bool norm_input_backward(Pass<T>& pass, Index l);
// post: A[l] = g N(A[l]) + beta after op l's own forward (skip_add: s' = N(s + alpha F(s)));
//       backward turns d loss / d A[l] in ws.grad_a into the gradient of the sum, in place.
template <class T>
void norm_output_forward(Pass<T>& pass, Index l);
template <class T>
void norm_output_backward(Pass<T>& pass, Index l);

// --jacobian (jacobian_walk.h), for the per-sample norms (layer, rms; BatchNorm couples the
// samples, so one input's J is not defined and these refuse it). At sample k, with x its
// normalised row and sigma its scale, d u / d h = diag(g) (1 / sigma) (I - 1 1^T / n - x x^T / n)
// (rms: no 1 1^T / n term), the backward's formula above as a matrix.
// dense_norm: J_l = diag(phi'(u)) (d u / d h) W J_{l-1}, written to walk.next.
template <class T>
void dense_norm_jacobian(JacobianWalk<T>& walk, Index l);
// pre:  walk.J (d s / d x) becomes d u / d x = (d u / d s) J, in place, for branch_in's dense step.
template <class T>
void norm_input_jacobian(JacobianWalk<T>& walk, Index l);
// post: walk.next (d (s + alpha F(s)) / d x) becomes d N(.) / d x, in place, after skip_add's step.
template <class T>
void norm_output_jacobian(JacobianWalk<T>& walk, Index l);

// The normalisation alone, on h (B, n): writes x over h and 1 / sigma into inv_sigma (n for
// batch, B otherwise). Each mean and variance is summed in double in a fixed order.
// BatchNorm's running statistics (pass.h's NormRunning), for one slot: with `use`, h is
// normalised with them instead of the batch's; otherwise the batch's are folded into them.
struct RunningRef {
  Vec<double>* mean = nullptr;
  Vec<double>* var = nullptr;
  double momentum = 0.1;
  bool use = false;
};
template <class T>
void norm_forward(NormKind kind, double eps, Mat<T>& h, Vec<double>& inv_sigma, int threads,
                  const RunningRef* running = nullptr);

// Its backward: d_x (B, n) in, d_h written over it.
template <class T>
void norm_backward(NormKind kind, const Mat<T>& x, const Vec<double>& inv_sigma, Eigen::Ref<Mat<T>> d_x,
                   int threads);

}  // namespace gf
