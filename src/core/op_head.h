#pragma once
// The linear head and the loss, the op OpKind::head (always the last, l = L + 1), forward and
// backward side by side. a_L = A[L] (B, n_L), W = W[L+1] (C, n_L), b = b[L+1] (C),
//   forward   z = Z = a_L W^T + b (B, C) and the loss (loss.h)
//   backward  d z = dZ (loss.h), d W = d z^T a_L, d b = sum over the batch of d z (train),
//             d a_L = d z W into ws.grad_a
#include "core/pass.h"

namespace gf {

template <class T>
bool head_forward(Pass<T>& pass, Index l);

template <class T>
bool head_backward(Pass<T>& pass, Index l);

}  // namespace gf
