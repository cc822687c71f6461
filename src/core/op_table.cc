// One line per kind of layer op (op_table.h).
#include "core/op_table.h"

#include "core/op_dense.h"
#include "core/op_head.h"
#include "core/op_norm.h"
#include "core/op_residual.h"

namespace gf {

template <class T>
OpKernels<T> op_kernels(OpKind kind) {
  switch (kind) {
    case OpKind::dense: return {dense_forward<T>, dense_backward<T>, dense_jacobian<T>};
    case OpKind::head: return {head_forward<T>, head_backward<T>, nullptr};
    case OpKind::branch_in: return {branch_in_forward<T>, branch_in_backward<T>, branch_in_jacobian<T>};
    case OpKind::skip_add: return {skip_add_forward<T>, skip_add_backward<T>, skip_add_jacobian<T>};
    case OpKind::dense_norm: return {dense_norm_forward<T>, dense_norm_backward<T>, dense_norm_jacobian<T>};
  }
  return {nullptr, nullptr, nullptr};
}

template OpKernels<float> op_kernels<float>(OpKind);
template OpKernels<double> op_kernels<double>(OpKind);

}  // namespace gf
