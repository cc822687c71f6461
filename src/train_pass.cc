#include "train_pass.h"

#include "layer.h"
#include "parallel.h"

namespace gf {

template <class T>
Workspace<T>::Workspace(const NetworkSpec& s, Index batch_) : batch(batch_) {
  const Index L = s.depth(), n_max = s.max_width();
  A.resize(static_cast<std::size_t>(L + 1));
  D.resize(static_cast<std::size_t>(L + 1));
  A[0].resize(batch, s.widths[0]);
  for (Index l = 1; l <= L; ++l) {
    A[l].resize(batch, s.widths[l]);
    D[l].resize(batch, s.widths[l]);
  }
  Z.resize(batch, s.classes);
  dZ.resize(batch, s.classes);
  targets = Mat<T>::Zero(s.loss == LossKind::mse ? batch : 0, s.classes);
  labels.resize(static_cast<std::size_t>(batch));
  grad_a.resize(batch * n_max);
  grad_h.resize(batch * n_max);
  parts.resize(static_cast<std::size_t>(block_count(n_max)));
}

template <class T>
void Workspace<T>::load(const Mat<double>& x, const std::vector<std::uint32_t>& y, const std::uint32_t* rows) {
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < batch; ++i) A[0](i, j) = static_cast<T>(x(rows[i], j));
  for (Index i = 0; i < batch; ++i) labels[static_cast<std::size_t>(i)] = y[rows[i]];
  if (targets.rows() > 0) {
    targets.setZero();
    for (Index i = 0; i < batch; ++i) targets(i, labels[static_cast<std::size_t>(i)]) = T(1);
  }
}

template <class T>
ForwardOutcome train_forward(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, int threads) {
  const Index L = s.depth();
  const SaturationTest sat = saturation_test(*s.activation, s.activation_param, s.sat_eps, s.saturated_when);
  ForwardOutcome out;
  out.layers.resize(static_cast<std::size_t>(L));
  for (Index l = 1; l <= L; ++l) {
    const Index n = s.widths[l];
    for_each_block_or_stop(n, threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      ws.parts[static_cast<std::size_t>(blk)] = layer_forward_block<T>(
          *s.activation, s.activation_param, sat, ws.A[l - 1], p.W[l].middleRows(c0, cols),
          p.b[l].segment(c0, cols), ws.D[l].middleCols(c0, cols), ws.A[l].middleCols(c0, cols));
    });
    ForwardPartial& total = out.layers[static_cast<std::size_t>(l - 1)];
    for (Index blk = 0; blk < block_count(n); ++blk) total.merge(ws.parts[static_cast<std::size_t>(blk)]);
    if (total.nonfinite > 0) {
      out.nonfinite_layer = l;
      return out;
    }
  }
  ws.Z.noalias() = ws.A[L] * p.W[L + 1].transpose();
  ws.Z.rowwise() += p.b[L + 1].transpose();
  if (!ws.Z.allFinite()) {
    out.nonfinite_layer = L + 1;
    return out;
  }
  out.loss = loss_forward<T>(s.loss, ws.Z, ws.labels, ws.targets);
  return out;
}

template <class T>
void train_backward(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, Params<T>& grad, int threads) {
  const Index L = s.depth(), B = ws.batch;
  loss_backward<T>(s.loss, ws.Z, ws.labels, ws.targets, ws.dZ);
  // z = a_L W_head^T + b_head
  grad.W[L + 1].noalias() = ws.dZ.transpose() * ws.A[L];
  grad.b[L + 1] = ws.dZ.colwise().sum().transpose();
  as_matrix(ws.grad_a, B, s.widths[L]).noalias() = ws.dZ * p.W[L + 1];

  for (Index l = L; l >= 1; --l) {
    const Index n = s.widths[l], n_in = s.widths[l - 1];
    auto d_a = as_matrix(ws.grad_a, B, n);
    auto d_h = as_matrix(ws.grad_h, B, n);
    for_each_block_or_stop(n, threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      preact_grad_block<T>(d_a.middleCols(c0, cols), ws.D[l].middleCols(c0, cols), d_h.middleCols(c0, cols));
      grad.W[l].middleRows(c0, cols).noalias() = d_h.middleCols(c0, cols).transpose() * ws.A[l - 1];
      grad.b[l].segment(c0, cols) = d_h.middleCols(c0, cols).colwise().sum().transpose();
    });
    if (l == 1) break;
    auto d_a_prev = as_matrix(ws.grad_a, B, n_in);  // d_a of this layer is spent: reuse its buffer
    for_each_block_or_stop(n_in, threads, [&](Index blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n_in);
      input_grad_block<T>(d_h, p.W[l].middleCols(c0, cols), T(1), d_a_prev.middleCols(c0, cols));
    });
  }
}

template <class T>
Index count_errors(const Workspace<T>& ws) {
  Index errors = 0;
  for (Index i = 0; i < ws.batch; ++i) {
    Index k = 0;
    ws.Z.row(i).maxCoeff(&k);
    errors += static_cast<std::uint32_t>(k) != ws.labels[static_cast<std::size_t>(i)];
  }
  return errors;
}

#define GF_INSTANTIATE(T)                                                                              \
  template struct Workspace<T>;                                                                        \
  template ForwardOutcome train_forward<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, int); \
  template void train_backward<T>(const NetworkSpec&, const Params<T>&, Workspace<T>&, Params<T>&, int); \
  template Index count_errors<T>(const Workspace<T>&);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
