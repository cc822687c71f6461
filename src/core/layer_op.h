#pragma once
// One entry of a network's list of layer ops (NetworkSpec::ops). The forward pass walks the list
// in order and the backward pass in reverse (engine.cc, llm.c's gpt2_forward/gpt2_backward);
// each kind has its forward and backward side by side in core/op_<kind>.{h,cc}.
//
// Slots: op k (1-based) writes the workspace's A[k] and D[k], owns Params::W[k] and b[k], and
// is row k - 1 of PassResult::layers. The head is the last op, slot L + 1.
#include <vector>

#include "base/tensor.h"
#include "core/activation.h"

namespace gf {

enum class OpKind {
  dense,  // h = a_prev W^T + b, a = phi(h): today's fused dense + activation (core/op_dense)
  head,   // z = a_L W^T + b and the loss: the last op of every network (core/op_head)
  // Room for issue 16, each a new kind with its core/op_<kind>.{h,cc} and one line in
  // core/op_table.cc: skip_add (s' = s + alpha F(s)), norm (batch, layer, rms).
};

struct LayerOp {
  OpKind kind = OpKind::dense;
  Index width = 0;                         // units out; the head: the classes
  const Activation* activation = nullptr;  // dense: phi, per layer
  double activation_param = 0.01;          // phi's parameter (leaky_relu's slope)
};

// The kind's name in messages ("dense").
const char* op_kind_name(OpKind kind);

// Today's flags as ops: dense layers of widths n_1 .. n_L (`hidden`), each with `act`, then the
// head over `classes`.
std::vector<LayerOp> plain_stack(const std::vector<Index>& hidden, const Activation& act, double param,
                                 Index classes);

}  // namespace gf
