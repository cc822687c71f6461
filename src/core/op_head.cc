#include "core/op_head.h"

#include "core/loss.h"

namespace gf {

template <class T>
bool head_forward(Pass<T>& pass, Index l) {
  const Params<T>& p = pass.p;
  Workspace<T>& ws = pass.ws;
  ws.Z.noalias() = ws.A[l - 1] * p.W[l].transpose();
  ws.Z.rowwise() += p.b[l].transpose();  // analyze: 0
  if (!ws.Z.allFinite()) {
    pass.out.overflow_layer = l;
    return false;
  }
  pass.out.loss = loss_forward<T>(pass.s.loss, ws.Z, ws.labels, ws.targets);
  return true;
}

// Not renormalised: d z is of order 1/B, and the scale starts here at 0.
template <class T>
bool head_backward(Pass<T>& pass, Index l) {
  const Params<T>& p = pass.p;
  Workspace<T>& ws = pass.ws;
  loss_backward<T>(pass.s.loss, ws.Z, ws.labels, ws.targets, ws.dZ);
  if (Params<T>* grads = pass.policy.grads) {
    grads->W[l].noalias() = ws.dZ.transpose() * ws.A[l - 1];
    grads->b[l] = ws.dZ.colwise().sum().transpose();
  }
  auto grad = as_matrix(ws.grad_a, ws.batch, pass.s.width(l - 1));
  grad.noalias() = ws.dZ * p.W[l];
  if (pass.policy.analyze() && grad.isZero(0)) {  // a zero head (--init fixup): nothing flows below
    pass.out.zero_grad_layer = l;
    return false;
  }
  return true;
}

template bool head_forward<float>(Pass<float>&, Index);
template bool head_forward<double>(Pass<double>&, Index);
template bool head_backward<float>(Pass<float>&, Index);
template bool head_backward<double>(Pass<double>&, Index);

}  // namespace gf
