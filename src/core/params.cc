#include "core/params.h"

#include "base/interrupt.h"

namespace gf {

template <class T>
Params<T>::Params(const NetworkSpec& s, bool zeroed) {
  keep_freed_memory();
  const Index L = s.depth();
  W.resize(static_cast<std::size_t>(L + 2));
  b.resize(static_cast<std::size_t>(L + 2));
  gain.resize(static_cast<std::size_t>(L + 2));
  shift.resize(static_cast<std::size_t>(L + 2));
  for (Index l = 1; l <= L + 1; ++l) {
    const Index rows = s.width(l);  // the head: C
    if (l > L || !s.regenerate_weights) W[l].resize(rows, s.width(l - 1));
    b[l].resize(rows);
    if (zeroed) W[l].setZero(), b[l].setZero();
    if (s.op(l).norm != NormKind::none) gain[l] = Vec<T>::Zero(rows), shift[l] = Vec<T>::Zero(rows);
  }
}

template <class T>
void draw_params(const NetworkSpec& s, Params<T>& p) {
  const Index L = s.depth();
  for (Index l = 1; l <= L; ++l) {
    throw_if_interrupted();
    if (!s.regenerate_weights)
      draw_weights<T>(s.weight_init, s.seed, Stream::weights, static_cast<std::uint32_t>(l), p.W[l], s.threads);
    draw_biases<T>(s.bias_init, s.seed, static_cast<std::uint32_t>(l), p.b[l]);
    p.gain[l].setOnes();
    p.shift[l].setZero();
  }
  const WeightInit head{"lecun_normal", WeightDist::normal, find_init("lecun_normal"), {}, {}, {}};
  draw_weights<T>(head, s.seed, Stream::head, 0, p.W[L + 1], s.threads);
  p.b[L + 1].setZero();
}

template <class T>
Params<T> initial_params(const NetworkSpec& s) {
  Params<T> p(s, false);
  draw_params(s, p);
  return p;
}

template <class T>
Eigen::Map<const RowMat<T>> layer_weights(const NetworkSpec& s, const Params<T>& p, Index l, Vec<T>& scratch) {
  const Index rows = s.width(l), cols = s.width(l - 1);
  if (!s.regenerate_weights) return {p.W[l].data(), rows, cols};
  Eigen::Map<RowMat<T>> w(scratch.data(), rows, cols);
  draw_weights<T>(s.weight_init, s.seed, Stream::weights, static_cast<std::uint32_t>(l), w, s.threads);
  return {scratch.data(), rows, cols};
}

#define GF_INSTANTIATE(T)                                                                    \
  template struct Params<T>;                                                                 \
  template void draw_params<T>(const NetworkSpec&, Params<T>&);                              \
  template Params<T> initial_params<T>(const NetworkSpec&);                                  \
  template Eigen::Map<const RowMat<T>> layer_weights<T>(const NetworkSpec&, const Params<T>&, Index, Vec<T>&);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
