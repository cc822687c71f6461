#pragma once
// An ONNX graph (onnx_read) as gradflow's network: a chain of dense layers from the graph's one
// input to its one output, each a Gemm or MatMul (+ Add of a bias) with the activation after it
// (none: identity), optionally a norm between the two (dense_norm); residual blocks where a
// tensor is read by a branch and by an Add that sums it with the branch's output (op_residual:
// K >= 2 dense layers, the last linear), with a norm before the branch or after the sum. The last
// linear layer is the head, whose output the loss reads. Anything else is refused, naming the
// node, its op type and what is supported; never skipped.
#include <string>

#include "core/given_network.h"
#include "model/onnx_graph.h"

namespace gf {

// BatchNormalization read with its running statistics (the model in inference mode: a fixed
// affine map per unit, NormKind::affine) or with the batch's (training mode: NormKind::batch).
enum class BnMode { running, batch };

// "Gemm, MatMul (+ Add: its bias), Relu, ...": every op type map_onnx reads.
std::string supported_onnx_ops();

// `path` names the file in messages. Throws UsageError.
GivenNetwork map_onnx(const OnnxGraph& g, const std::string& path, BnMode bn = BnMode::running);

}  // namespace gf
