#include "core/layer_op.h"

namespace gf {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::dense: return "dense";
    case OpKind::head: return "head";
  }
  return "unknown";
}

std::vector<LayerOp> plain_stack(const std::vector<Index>& hidden, const Activation& act, double param,
                                 Index classes) {
  std::vector<LayerOp> ops;
  ops.reserve(hidden.size() + 1);
  for (Index n : hidden) ops.push_back({OpKind::dense, n, &act, param});
  ops.push_back({OpKind::head, classes, nullptr, 0});
  return ops;
}

}  // namespace gf
