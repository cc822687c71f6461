#pragma once
// The table of layer-op kinds (layer_op.h's OpKind): each kind's forward and backward, from
// core/op_<kind>.h. The walks of engine.cc know the ops only through it, so a new kind is its
// core/op_<kind>.{h,cc} and one line in op_table.cc, and no change to the walks.
#include "core/jacobian_walk.h"
#include "core/pass.h"

namespace gf {

// One kind of op's pair of functions over op l (1-based slot; layer_op.h). Each returns false
// when the walk must stop: forward at a non-finite value (out.overflow_layer set), backward when
// nothing (or nothing exact) flows below, or at a non-finite gradient (out.overflow_layer set).
template <class T>
struct OpKernels {
  bool (*forward)(Pass<T>& pass, Index l);
  bool (*backward)(Pass<T>& pass, Index l);
  // d a_l / d a_{l-1} applied to the walk's J at each sample (--jacobian): writes walk.next.
  // nullptr: the kind has none yet, and --jacobian says so (core/jacobian.cc); the head has
  // none, since J ends at the last hidden layer.
  void (*jacobian)(JacobianWalk<T>& walk, Index l) = nullptr;
};

// The kernels of one kind (op_table.cc).
template <class T>
OpKernels<T> op_kernels(OpKind kind);

}  // namespace gf
