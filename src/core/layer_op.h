#pragma once
// One entry of a network's list of layer ops (NetworkSpec::ops). The forward pass walks the list
// in order and the backward pass in reverse (engine.cc, llm.c's gpt2_forward/gpt2_backward);
// each kind has its forward and backward side by side in core/op_<kind>.{h,cc}.
//
// Slots: op k (1-based) writes the workspace's A[k] and D[k], owns Params::W[k] and b[k], and
// is row k - 1 of PassResult::layers. The head is the last op, slot L + 1.
#include <optional>
#include <string>
#include <vector>

#include "base/tensor.h"
#include "core/activation.h"

namespace gf {

enum class OpKind {
  dense,  // h = a_prev W^T + b, a = phi(h): today's fused dense + activation (core/op_dense)
  head,   // z = a_L W^T + b and the loss: the last op of every network (core/op_head)
  // A residual block s' = s + alpha F(s) is K dense layers whose ends are these two kinds
  // (core/op_residual); the layers between them are plain `dense`.
  branch_in,  // the branch's first dense layer, reading the stream s; backward adds s's own path
  skip_add,   // the branch's last dense layer (linear), then s' = s + alpha F(s)
  // A dense layer with a normalisation between the product and the activation: h -> N(h) -> phi
  // (core/op_norm). One slot, one record: the layer's statistics are those at phi's input, N(h).
  dense_norm,
};

// The normalisations of --norm (core/op_norm): batch statistics per unit (BatchNorm), or per
// sample over the units (LayerNorm, RMSNorm). affine: no statistics, N(h) = h, so the layer is
// u = g h + beta per unit: BatchNorm at its running statistics (inference mode) of an imported
// model, g = gamma / sqrt(running_var + eps) and beta = shift - g running_mean; no flag makes one.
enum class NormKind { none, batch, layer, rms, affine };
// Where a residual net's norm sits (--norm-position): pre, on the branch's input,
// s' = s + alpha F(N(s)) (branch_in's op.norm); post, on the block's output, s' = N(s + alpha F(s))
// (skip_add's op.norm). Xiong et al. 2020's Pre-LN and Post-LN.
enum class NormPosition { pre, post };

struct LayerOp {
  OpKind kind = OpKind::dense;
  Index width = 0;                         // units out; the head: the classes
  const Activation* activation = nullptr;  // dense: phi, per layer
  double activation_param = 0.01;          // phi's parameter (leaky_relu's slope)
  // Residual blocks: every layer of a branch has the block's number (1-based; 0 outside any
  // branch), and skip_add also the slot whose output is the block's input stream (A[stream]) and
  // the branch's scale alpha.
  Index block = 0;
  Index stream = 0;
  double alpha = 1;  // at init; with learn_alpha, Params::alpha holds it from then on
  bool learn_alpha = false;  // ReZero (alpha 0 at init, Bachlechner et al. 2020): train learns it
  // dense_norm, and branch_in (pre) or skip_add (post) in a normed residual net: which
  // normalisation, and its eps (sigma = sqrt(variance + eps)).
  NormKind norm = NormKind::none;
  double norm_eps = 1e-5;
  // Inverted dropout after the activation, a = phi(h) m / (1 - p), m ~ Bernoulli(1 - p)
  // (core/dropout); 0: none. Only on layers with an activation (dense, dense_norm, branch_in, and
  // the dense layers inside a branch), never on a linear layer or the head.
  double dropout = 0;

  bool operator==(const LayerOp&) const = default;
};

// The kind's name in messages ("dense").
const char* op_kind_name(OpKind kind);

// Today's flags as ops: dense layers of widths n_1 .. n_L (`hidden`), each with `act` (and with
// `norm` before it, as dense_norm ops, unless none), then the head over `classes`.
std::vector<LayerOp> plain_stack(const std::vector<Index>& hidden, const Activation& act, double param,
                                 Index classes, NormKind norm = NormKind::none, double norm_eps = 1e-5);

// A residual network (Yang & Schoenholz 2017's "full residual" form, the ResNet basic block):
// `blocks` blocks of K >= 2 dense layers of width n over the stream, each branch
// F(s) = W_K phi(... phi(W_1 s + b_1) ...) + b_K (the last layer linear) and s' = s + alpha F(s);
// then the head. When the input width differs from n, a linear dense layer (slot 1) first
// projects the data onto the stream.
// With `norm`, each block's norm at `position`.
std::vector<LayerOp> residual_stack(Index input_width, Index n, Index blocks, Index K, const Activation& act,
                                    double param, double alpha, Index classes, NormKind norm = NormKind::none,
                                    NormPosition position = NormPosition::pre, double norm_eps = 1e-5);

// What is wrong with an op list, if anything: the first bad op's index in the list (0-based)
// and why, in words ("block 2: its layers have width 64 but the stream it adds to has 32").
struct OpListError {
  std::size_t op = 0;
  std::string message;
};
// The one check of a network's op list, for every producer of one (the flags' builders,
// --arch, an imported model): head last and only there; widths >= 1; an activation on every
// dense layer; dropout in [0, 1) and only after an activation; a norm where its kind allows one;
// residual blocks numbered 1, 2, ... in order, each branch_in, dense..., skip_add (K >= 2) at
// the stream's width with a linear last layer, the skip reading the slot before the block.
std::optional<OpListError> check_ops(Index input_width, const std::vector<LayerOp>& ops);

// --dropout p on every hidden activation of `ops`: each dense layer but the linear ones of a
// residual net (its input projection, each branch's last layer) and the head.
void set_dropout(std::vector<LayerOp>& ops, double p);

}  // namespace gf
