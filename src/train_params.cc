#include "train_params.h"

namespace gf {

template <class T>
Params<T>::Params(const NetworkSpec& s) {
  const Index L = s.depth();
  W.resize(static_cast<std::size_t>(L + 2));
  b.resize(static_cast<std::size_t>(L + 2));
  for (Index l = 1; l <= L + 1; ++l) {
    const Index rows = l <= L ? s.widths[l] : s.classes;
    W[l] = RowMat<T>::Zero(rows, s.widths[l - 1]);
    b[l] = Vec<T>::Zero(rows);
  }
}

template <class T>
Params<T> initial_params(const NetworkSpec& s) {
  Params<T> p(s);
  const Index L = s.depth();
  for (Index l = 1; l <= L; ++l) {
    draw_weights<T>(s.weight_init, s.seed, Stream::weights, static_cast<std::uint32_t>(l), p.W[l], 1);
    draw_biases<T>(s.bias_init, s.seed, static_cast<std::uint32_t>(l), p.b[l]);
  }
  const WeightInit head{"lecun_normal", WeightDist::normal, find_init("lecun_normal"), {}, {}, {}};
  draw_weights<T>(head, s.seed, Stream::head, 0, p.W[L + 1], 1);
  return p;
}

template struct Params<float>;
template struct Params<double>;
template Params<float> initial_params<float>(const NetworkSpec&);
template Params<double> initial_params<double>(const NetworkSpec&);

}  // namespace gf
