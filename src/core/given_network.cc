#include "core/given_network.h"

#include <fmt/format.h>

namespace gf {

template <class T>
void load_given_weights(const GivenNetwork& g, Params<T>& p) {
  for (std::size_t k = 0; k < g.W.size(); ++k) {
    p.W[k + 1] = g.W[k].template cast<T>();
    p.b[k + 1] = g.b[k].template cast<T>();
    if (k < g.gain.size() && g.gain[k].size() > 0) {
      p.gain[k + 1] = g.gain[k].template cast<T>();
      p.shift[k + 1] = g.shift[k].template cast<T>();
    }
  }
}

template <class T>
void load_given_batch(const GivenBatch& d, LossKind loss, Workspace<T>& ws) {
  ws.A[0] = d.x.topRows(ws.batch).template cast<T>();
  for (Index i = 0; i < ws.batch; ++i) ws.labels[static_cast<std::size_t>(i)] = d.labels[static_cast<std::size_t>(i)];
  if (loss == LossKind::mse) {
    ws.targets.setZero();
    for (Index i = 0; i < ws.batch; ++i) ws.targets(i, ws.labels[static_cast<std::size_t>(i)]) = T(1);
  }
}

std::string given_norm_text(const LayerOp& op) {
  std::string words;
  switch (op.norm) {
    case NormKind::none: return "";
    case NormKind::batch: words = "batch norm"; break;
    case NormKind::layer: words = "layer norm"; break;
    case NormKind::rms: words = "rms norm"; break;
    case NormKind::affine: words = "batch norm (running statistics)"; break;
  }
  return op.kind == OpKind::branch_in ? "pre-" + words : op.kind == OpKind::skip_add ? "post-" + words : words;
}

std::string given_layers_text(const GivenNetwork& g) {
  std::string out;
  for (std::size_t k = 0; k < g.ops.size(); ++k) {
    const LayerOp& op = g.ops[k];
    if (!out.empty()) out += ", ";
    if (op.kind == OpKind::head) {
      out += fmt::format("head {} ({})", g.names[k], op.width);
      continue;
    }
    std::string norm = given_norm_text(op);
    if (!norm.empty()) norm += ", ";
    const std::string block = op.block ? fmt::format("; block {}", op.block) : "";
    out += fmt::format("{} ({}, {}{}{})", g.names[k], op.width, norm, op.activation->name, block);
  }
  return out;
}

template void load_given_weights(const GivenNetwork&, Params<float>&);
template void load_given_weights(const GivenNetwork&, Params<double>&);
template void load_given_batch(const GivenBatch&, LossKind, Workspace<float>&);
template void load_given_batch(const GivenBatch&, LossKind, Workspace<double>&);

}  // namespace gf
