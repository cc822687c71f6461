#include "core/layer_op.h"

namespace gf {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::dense: return "dense";
    case OpKind::head: return "head";
    case OpKind::branch_in: return "residual branch_in";
    case OpKind::skip_add: return "residual skip_add";
    case OpKind::dense_norm: return "dense_norm";
  }
  return "unknown";
}

std::vector<LayerOp> plain_stack(const std::vector<Index>& hidden, const Activation& act, double param,
                                 Index classes, NormKind norm, double norm_eps) {
  std::vector<LayerOp> ops;
  ops.reserve(hidden.size() + 1);
  for (Index n : hidden) {
    LayerOp op{OpKind::dense, n, &act, param};
    if (norm != NormKind::none) op.kind = OpKind::dense_norm, op.norm = norm, op.norm_eps = norm_eps;
    ops.push_back(op);
  }
  ops.push_back({OpKind::head, classes, nullptr, 0});
  return ops;
}

std::vector<LayerOp> residual_stack(Index input_width, Index n, Index blocks, Index K, const Activation& act,
                                    double param, double alpha, Index classes, NormKind norm,
                                    NormPosition position, double norm_eps) {
  const Activation& linear = *find_activation("identity");
  std::vector<LayerOp> ops;
  ops.reserve(static_cast<std::size_t>(blocks * K + 2));
  if (input_width != n) ops.push_back({OpKind::dense, n, &linear, param});
  for (Index k = 1; k <= blocks; ++k) {
    const Index stream = static_cast<Index>(ops.size());  // the slot whose output enters the block
    ops.push_back({OpKind::branch_in, n, &act, param, k});
    for (Index j = 2; j < K; ++j) ops.push_back({OpKind::dense, n, &act, param, k});
    ops.push_back({OpKind::skip_add, n, &linear, param, k, stream, alpha, alpha == 0});
    LayerOp& normed = position == NormPosition::pre ? ops[static_cast<std::size_t>(stream)] : ops.back();
    normed.norm = norm;
    normed.norm_eps = norm_eps;
  }
  ops.push_back({OpKind::head, classes, nullptr, 0});
  return ops;
}

}  // namespace gf
