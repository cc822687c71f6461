#include "core/network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "base/parallel.h"

namespace gf {

std::vector<Index> NetworkSpec::widths() const {
  std::vector<Index> w{input_width};
  for (Index l = 1; l <= depth(); ++l) w.push_back(width(l));
  return w;
}

Index NetworkSpec::max_width() const {
  Index n = input_width;
  for (Index l = 1; l <= depth(); ++l) n = std::max(n, width(l));
  return n;
}

Index NetworkSpec::stream_width() const {
  for (const LayerOp& op : ops)
    if (op.kind == OpKind::skip_add) return op.width;
  return 0;
}

std::uint64_t workspace_bytes(const NetworkSpec& spec, Dtype dtype, Index batch, int scratch_threads) {
  const std::uint64_t s = dtype == Dtype::f32 ? 4 : 8;
  const auto B = static_cast<std::uint64_t>(batch);
  const auto C = static_cast<std::uint64_t>(spec.classes());
  const auto n_max = static_cast<std::uint64_t>(spec.max_width());
  std::uint64_t units = 0, norm_units = 0, units_kept = 0;
  for (Index l = 1; l <= spec.depth(); ++l) {
    units += static_cast<std::uint64_t>(spec.width(l));
    // x, and a pre-norm's u (the branch's input)
    const std::uint64_t copies = spec.op(l).norm == NormKind::none ? 0 : spec.op(l).kind == OpKind::branch_in ? 2 : 1;
    norm_units += copies * static_cast<std::uint64_t>(spec.width(l));
    if (spec.op(l).learn_alpha) units_kept += static_cast<std::uint64_t>(spec.width(l));  // branch_out
  }
  const std::uint64_t activations =
      B * (static_cast<std::uint64_t>(spec.width(0)) + 2 * units + norm_units + units_kept);
  const std::uint64_t targets = spec.loss == LossKind::xent ? 0 : B * C;
  const std::uint64_t skip = B * static_cast<std::uint64_t>(spec.stream_width());
  const auto dW_group = static_cast<std::uint64_t>(group_cols(spec.max_width()));
  const std::uint64_t scratch = 2 * B * n_max + 2 * B * C + targets + skip +
                                n_max * dW_group * static_cast<std::uint64_t>(scratch_threads);
  return s * (activations + scratch) + 8 * (B + 1) * norm_units + 4 * B;  // + 1 / sigma, the labels
}

std::uint64_t params_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate) {
  const std::uint64_t s = dtype == Dtype::f32 ? 4 : 8;
  const auto C = static_cast<std::uint64_t>(spec.classes());
  std::uint64_t weights = 0, units = 0, biggest_layer = 0;
  for (Index l = 1; l <= spec.depth(); ++l) {
    const auto layer = static_cast<std::uint64_t>(spec.width(l) * spec.width(l - 1));
    weights += layer;
    biggest_layer = std::max(biggest_layer, layer);
    units += static_cast<std::uint64_t>(spec.width(l)) * (spec.op(l).norm != NormKind::none ? 3 : 1);
  }
  const auto n_L = static_cast<std::uint64_t>(spec.width(spec.depth()));
  return s * ((regenerate ? biggest_layer : weights) + units + C * n_L + C);
}

std::uint64_t estimate_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate) {
  std::uint64_t biggest_layer = 0;
  for (Index l = 1; l <= spec.depth(); ++l)
    biggest_layer = std::max(biggest_layer, static_cast<std::uint64_t>(spec.width(l) * spec.width(l - 1)));
  // Orthogonal init factorises each layer in f64.
  const std::uint64_t qr = spec.weight_init.dist == WeightDist::orthogonal ? 2 * biggest_layer * 8 : 0;
  return params_bytes(spec, dtype, regenerate) + workspace_bytes(spec, dtype, spec.batch, spec.threads) + qr;
}

// Memory freed by one network stays in the process for the next one (the next activation of
// `analyze`, the next run of a sweep), instead of going back to the kernel and returning as
// fresh pages, which the kernel must fault in and zero: 0.4 ms per MiB here, a fifth of a
// depth-20 width-256 analysis. Peak memory is unchanged. (glibc; elsewhere the default.)
void keep_freed_memory() {
#ifdef __GLIBC__
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // blocks below 32 MiB (glibc's maximum) from the heap
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());  // and the heap is not trimmed
    return true;
  }();
  (void)done;
#endif
}

template <class T>
Workspace<T>::Workspace(const NetworkSpec& s, Index batch_, int scratch_threads) : batch(batch_) {
  keep_freed_memory();
  const Index L = s.depth(), B = batch, C = s.classes(), n_max = s.max_width();
  A.resize(static_cast<std::size_t>(L + 1));
  D.resize(static_cast<std::size_t>(L + 1));
  A[0].resize(B, s.width(0));
  norm_x.resize(static_cast<std::size_t>(L + 1));
  norm_inv_sigma.resize(static_cast<std::size_t>(L + 1));
  norm_u.resize(static_cast<std::size_t>(L + 1));
  branch_out.resize(static_cast<std::size_t>(L + 1));
  Index biggest = 0;
  for (Index l = 1; l <= L; ++l) {
    biggest = std::max(biggest, s.width(l) * s.width(l - 1));
    A[l].resize(B, s.width(l));
    D[l].resize(B, s.width(l));
    if (s.op(l).norm != NormKind::none) {
      norm_x[l].resize(B, s.width(l));
      norm_inv_sigma[l].resize(s.op(l).norm == NormKind::batch ? s.width(l) : B);
      if (s.op(l).kind == OpKind::branch_in) norm_u[l].resize(B, s.width(l));
    }
    if (s.op(l).learn_alpha) branch_out[l].resize(B, s.width(l));
  }
  if (s.regenerate_weights) W_scratch.resize(biggest);
  Z.resize(B, C);
  dZ.resize(B, C);
  targets = Mat<T>::Zero(s.loss == LossKind::xent ? 0 : B, C);
  labels.resize(static_cast<std::size_t>(B));
  grad_a.resize(B * n_max);
  grad_h.resize(B * n_max);
  skip_grad.resize(B, s.stream_width());
  dW_scratch.resize(static_cast<std::size_t>(scratch_threads));
  for (Mat<T>& m : dW_scratch) m.resize(n_max, group_cols(n_max));  // group_cols grows with n
  const auto blocks = static_cast<std::size_t>(block_count(n_max));
  forward_parts.resize(blocks);
  sumsq_parts.resize(blocks);
  weight_grad_parts.resize(blocks);
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
void draw_batch(const NetworkSpec& s, Workspace<T>& ws) {
  Mat<T>& x = ws.A[0];
  const auto n_x = static_cast<std::size_t>(x.size());
  const RandomStream input{s.seed, Stream::input, 0};
  switch (s.input) {
    case InputKind::normal: fill_normal<T>(input, 0, x.data(), n_x); break;
    case InputKind::uniform: fill_uniform<T>(input, 0, x.data(), n_x, T(-1), T(1)); break;
    case InputKind::positive: fill_uniform<T>(input, 0, x.data(), n_x, T(0), T(1)); break;
  }
  std::vector<std::uint32_t> bits(ws.labels.size());
  fill_bits({s.seed, Stream::labels, 0}, 0, bits.data(), bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i)
    ws.labels[i] = uniform_int(bits[i], static_cast<std::uint32_t>(s.classes()));
  const Stream t = s.loss == LossKind::random ? Stream::direction : Stream::targets;
  fill_normal<T>({s.seed, t, 0}, 0, ws.targets.data(), static_cast<std::size_t>(ws.targets.size()));
}

template struct Workspace<float>;
template struct Workspace<double>;
template void draw_batch<float>(const NetworkSpec&, Workspace<float>&);
template void draw_batch<double>(const NetworkSpec&, Workspace<double>&);

}  // namespace gf
