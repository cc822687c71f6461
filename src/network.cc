#include "network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "parallel.h"

namespace gf {

Index NetworkSpec::max_width() const { return *std::max_element(widths.begin(), widths.end()); }

std::uint64_t estimate_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate) {
  const std::uint64_t s = dtype == Dtype::f32 ? 4 : 8;
  const auto B = static_cast<std::uint64_t>(spec.batch);
  const auto C = static_cast<std::uint64_t>(spec.classes);
  const auto n_max = static_cast<std::uint64_t>(spec.max_width());
  std::uint64_t weights = 0, units = 0, biggest_layer = 0;
  for (Index l = 1; l <= spec.depth(); ++l) {
    const auto layer = static_cast<std::uint64_t>(spec.widths[l] * spec.widths[l - 1]);
    weights += layer;
    biggest_layer = std::max(biggest_layer, layer);
    units += static_cast<std::uint64_t>(spec.widths[l]);
  }
  const std::uint64_t activations = B * (static_cast<std::uint64_t>(spec.widths[0]) + 2 * units);
  const std::uint64_t scratch = 2 * B * n_max + 3 * B * C + C * n_max +
                                n_max * kBlockCols * static_cast<std::uint64_t>(spec.threads);
  // Orthogonal init factorises each layer in f64.
  const std::uint64_t qr =
      spec.weight_init.dist == WeightDist::orthogonal ? 2 * biggest_layer * 8 / s : 0;
  return s * ((regenerate ? biggest_layer : weights) + activations + scratch + qr + units);
}

namespace {

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

}  // namespace

template <class T>
Network<T>::Network(NetworkSpec s) : spec(std::move(s)) {
  keep_freed_memory();
  const Index L = spec.depth(), B = spec.batch, C = spec.classes, n_max = spec.max_width();
  W.resize(L + 1);
  b.resize(L + 1);
  A.resize(L + 1);
  D.resize(L + 1);
  A[0].resize(B, spec.widths[0]);
  Index biggest = 0;
  for (Index l = 1; l <= L; ++l) {
    if (!spec.regenerate_weights) W[l].resize(spec.widths[l], spec.widths[l - 1]);
    biggest = std::max(biggest, spec.widths[l] * spec.widths[l - 1]);
    b[l].resize(spec.widths[l]);
    A[l].resize(B, spec.widths[l]);
    D[l].resize(B, spec.widths[l]);
  }
  if (spec.regenerate_weights) W_scratch.resize(biggest);
  W_head.resize(C, spec.widths[L]);
  Z.resize(B, C);
  dZ.resize(B, C);
  targets.resize(B, C);
  labels.resize(static_cast<std::size_t>(B));
  grad_a.resize(B * n_max);
  grad_h.resize(B * n_max);
  dW_scratch.resize(static_cast<std::size_t>(std::max(1, spec.threads)));
  for (Mat<T>& m : dW_scratch) m.resize(n_max, kBlockCols);
  const auto blocks = static_cast<std::size_t>(block_count(n_max));
  forward_parts.resize(blocks);
  sumsq_parts.resize(blocks);
  weight_grad_parts.resize(blocks);
}

template <class T>
Eigen::Map<const RowMat<T>> Network<T>::weights(Index l) {
  const Index rows = spec.widths[l], cols = spec.widths[l - 1];
  if (!spec.regenerate_weights) return {W[l].data(), rows, cols};
  Eigen::Map<RowMat<T>> w(W_scratch.data(), rows, cols);
  draw_weights<T>(spec.weight_init, spec.seed, Stream::weights, static_cast<std::uint32_t>(l), w,
                  spec.threads);
  return {W_scratch.data(), rows, cols};
}

template <class T>
void network_draw(Network<T>& net) {
  const NetworkSpec& s = net.spec;
  for (Index l = 1; l <= s.depth(); ++l) {
    throw_if_interrupted();
    if (!s.regenerate_weights)
      draw_weights<T>(s.weight_init, s.seed, Stream::weights, static_cast<std::uint32_t>(l), net.W[l],
                      s.threads);
    draw_biases<T>(s.bias_init, s.seed, static_cast<std::uint32_t>(l), net.b[l]);
  }

  WeightInit head{"lecun_normal", WeightDist::normal, find_init("lecun_normal"), {}, {}, {}};
  draw_weights<T>(head, s.seed, Stream::head, 0, net.W_head, s.threads);

  Mat<T>& x = net.A[0];
  const auto n_x = static_cast<std::size_t>(x.size());
  const RandomStream input{s.seed, Stream::input, 0};
  switch (s.input) {
    case InputKind::normal: fill_normal<T>(input, 0, x.data(), n_x); break;
    case InputKind::uniform: fill_uniform<T>(input, 0, x.data(), n_x, T(-1), T(1)); break;
    case InputKind::positive: fill_uniform<T>(input, 0, x.data(), n_x, T(0), T(1)); break;
  }
  std::vector<std::uint32_t> bits(net.labels.size());
  fill_bits({s.seed, Stream::labels, 0}, 0, bits.data(), bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i)
    net.labels[i] = uniform_int(bits[i], static_cast<std::uint32_t>(s.classes));
  const Stream t = s.loss == LossKind::random ? Stream::direction : Stream::targets;
  fill_normal<T>({s.seed, t, 0}, 0, net.targets.data(), static_cast<std::size_t>(net.targets.size()));
}

template struct Network<float>;
template struct Network<double>;
template void network_draw<float>(Network<float>&);
template void network_draw<double>(Network<double>&);

}  // namespace gf
