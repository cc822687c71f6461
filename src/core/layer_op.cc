#include "core/layer_op.h"

#include <fmt/format.h>

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

void set_dropout(std::vector<LayerOp>& ops, double p) {
  bool residual = false;
  for (const LayerOp& op : ops) residual = residual || op.kind == OpKind::skip_add;
  for (LayerOp& op : ops) {
    const bool activated = op.kind == OpKind::dense || op.kind == OpKind::dense_norm || op.kind == OpKind::branch_in;
    if (activated && !(residual && op.block == 0)) op.dropout = p;
  }
}

std::optional<OpListError> check_ops(Index input_width, const std::vector<LayerOp>& ops) {
  const auto fail = [](std::size_t i, std::string why) { return std::optional<OpListError>({i, std::move(why)}); };
  if (ops.empty() || ops.back().kind != OpKind::head) return fail(ops.size(), "the list must end with the head");
  Index block = 0, last_block = 0;  // the block in progress (0: none), the last one begun
  std::size_t start = 0;             // its branch_in
  for (std::size_t i = 0; i + 1 < ops.size(); ++i) {
    const LayerOp& op = ops[i];
    const Index in = i == 0 ? input_width : ops[i - 1].width;
    if (op.kind == OpKind::head) return fail(i, "the head can only be the last op");
    if (op.width < 1) return fail(i, fmt::format("width {} (at least 1)", op.width));
    if (!op.activation) return fail(i, "a dense layer needs an activation");
    const bool activated = op.kind != OpKind::skip_add;
    if (!(op.dropout >= 0 && op.dropout < 1))
      return fail(i, fmt::format("dropout {} (allowed: 0 <= p < 1)", op.dropout));
    if (op.dropout != 0 && !activated)
      return fail(i, "dropout follows an activation, and a branch's last layer is linear");
    if (op.kind == OpKind::dense_norm && op.norm == NormKind::none) return fail(i, "dense_norm without a norm");
    if (op.kind == OpKind::dense && op.norm != NormKind::none)
      return fail(i, "a norm on a dense layer makes it dense_norm");
    if (op.norm != NormKind::none && !(op.norm_eps > 0)) return fail(i, fmt::format("norm eps {} (> 0)", op.norm_eps));
    const bool in_block = block != 0;
    switch (op.kind) {
      case OpKind::branch_in:
        if (in_block) return fail(i, fmt::format("block {} starts before block {} ends (blocks do not nest)", op.block, block));
        if (op.block != last_block + 1) return fail(i, fmt::format("block {} follows block {}", op.block, last_block));
        if (op.width != in)
          return fail(i, fmt::format("block {}: its layers have width {} but the stream it adds to has {}; a residual "
                                     "block keeps the stream's width (put a dense layer of width {} before it)",
                                     op.block, op.width, in, op.width));
        block = last_block = op.block, start = i;
        break;
      case OpKind::dense:
      case OpKind::dense_norm:
        if (op.block != block) return fail(i, fmt::format("a layer of block {} outside it", op.block));
        if (in_block && op.kind == OpKind::dense_norm) return fail(i, "a branch's layers carry no norm of their own");
        if (in_block && op.width != ops[start].width)
          return fail(i, fmt::format("block {}: width {}, but the block's stream has {}", block, op.width,
                                     ops[start].width));
        break;
      case OpKind::skip_add:
        if (!in_block || op.block != block) return fail(i, "a skip_add without its block's branch_in");
        if (i - start < 1) return fail(i, fmt::format("block {} has one layer (K >= 2)", block));
        if (op.width != ops[start].width)
          return fail(i, fmt::format("block {}: width {}, but the block's stream has {}", block, op.width,
                                     ops[start].width));
        if (op.activation->name != "identity")
          return fail(i, fmt::format("block {}: the branch's last layer is linear (activation identity), not {}", block,
                                     op.activation->name));
        if (op.stream != static_cast<Index>(start)) return fail(i, fmt::format("block {}: the skip reads the wrong slot", block));
        if (op.norm != NormKind::none && ops[start].norm != NormKind::none)
          return fail(i, fmt::format("block {}: a norm before and after (give one position)", block));
        if (op.learn_alpha && op.alpha != 0) return fail(i, "a learned alpha starts at 0 (ReZero)");
        block = 0;
        break;
      case OpKind::head: break;
    }
  }
  if (block != 0) return fail(ops.size() - 1, fmt::format("block {} has no end (skip_add)", block));
  return std::nullopt;
}

}  // namespace gf
