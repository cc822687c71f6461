#include "core/params.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/interrupt.h"

namespace gf {

namespace {

bool linear(const LayerOp& op) { return op.activation->name == "identity"; }

// The activation whose auto scheme layer l draws with (layer_init).
const Activation& scheme_activation(const NetworkSpec& s, Index l) {
  for (Index k = l; k >= 1; --k)
    if (!linear(s.op(k))) return *s.op(k).activation;
  for (Index k = l + 1; k <= s.depth(); ++k)
    if (!linear(s.op(k))) return *s.op(k).activation;
  return *s.op(l).activation;  // a deep linear net: identity's own
}

}  // namespace

WeightInit layer_init(const NetworkSpec& s, Index l) {
  WeightInit w = s.weight_init;
  if (!w.per_layer) return w;
  w.scheme = find_init(scheme_activation(s, l).auto_init);
  w.dist = w.scheme->dist;
  return w;
}

InitSchemesText init_schemes_text(const NetworkSpec& s) {
  if (!s.weight_init.per_layer) return {std::string(s.weight_init.scheme->name)};
  // Each scheme in order of first use, with the activations of the layers drawn with it.
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> uses;
  bool linear_layers = false;
  std::string_view scheme;
  for (Index l = 1; l <= s.depth(); ++l) {
    // A linear layer after a linear layer draws as that one does (the nearest activation before
    // both is the same, and so is the one after): asked once per run of linear layers, so that a
    // deep linear net (theory's -a identity -d 100000) is named in one pass, not one per layer.
    if (l == 1 || !linear(s.op(l)) || !linear(s.op(l - 1))) scheme = layer_init(s, l).scheme->name;
    auto it = std::find_if(uses.begin(), uses.end(), [&](const auto& u) { return u.first == scheme; });
    if (it == uses.end()) it = uses.insert(uses.end(), {scheme, {}});
    linear_layers = linear_layers || linear(s.op(l));
    const std::string_view act = s.op(l).activation->name;
    if (!linear(s.op(l)) && std::find(it->second.begin(), it->second.end(), act) == it->second.end())
      it->second.push_back(act);
  }
  if (uses.size() == 1) return {std::string(uses.front().first)};
  std::string text = "per layer: ";
  for (std::size_t i = 0; i < uses.size(); ++i) {
    const std::vector<std::string_view>& acts = uses[i].second;
    text += fmt::format("{}{} for ", i == 0 ? "" : ", ", uses[i].first);
    for (std::size_t k = 0; k < acts.size(); ++k)
      text += fmt::format("{}{}", k == 0 ? "" : k + 1 == acts.size() ? " and " : ", ", acts[k]);
    text += " layers";
  }
  if (linear_layers) text += "; a linear layer as the nearest activation before it, else after";
  return {text, true};
}

// The factor on hidden layer l's drawn weights: 1, except under Fixup (Zhang et al. 2019,
// "Fixup initialization", Sec. 3: "initialize the classification layer and the last layer of each
// residual branch to 0; initialize every other layer using a standard method; scale only the weight
// layers inside residual branches by L^(-1/(2m-2))", L branches of m layers). Layers outside the
// branches (the input projection) keep the standard draw.
double init_factor(const NetworkSpec& s, Index l) {
  if (!s.weight_init.fixup) return 1;
  const LayerOp& op = s.op(l);
  if (op.block == 0) return 1;
  if (op.kind == OpKind::skip_add) return 0;
  Index blocks = 0, m = 0;
  for (const LayerOp& o : s.ops) {
    blocks = std::max(blocks, o.block);
    m += o.block == 1;
  }
  return std::pow(static_cast<double>(blocks), -1.0 / static_cast<double>(2 * m - 2));
}

namespace {

template <class T>
void draw_layer_weights(const NetworkSpec& s, Index l, RowMatRef<T> W) {
  const double f = init_factor(s, l);
  if (f == 0) {
    W.setZero();
    return;
  }
  draw_weights<T>(layer_init(s, l), s.seed, Stream::weights, static_cast<std::uint32_t>(l), W, s.threads);
  if (f != 1) W *= static_cast<T>(f);
}

}  // namespace

template <class T>
Params<T>::Params(const NetworkSpec& s, bool zeroed) {
  keep_freed_memory();
  const Index L = s.depth();
  W.resize(static_cast<std::size_t>(L + 2));
  b.resize(static_cast<std::size_t>(L + 2));
  gain.resize(static_cast<std::size_t>(L + 2));
  shift.resize(static_cast<std::size_t>(L + 2));
  alpha.resize(static_cast<std::size_t>(L + 2));
  for (Index l = 1; l <= L + 1; ++l) {
    const Index rows = s.width(l);  // the head: C
    if (l > L || !s.regenerate_weights) W[l].resize(rows, s.width(l - 1));
    b[l].resize(rows);
    if (zeroed) W[l].setZero(), b[l].setZero();
    if (s.op(l).norm != NormKind::none) gain[l] = Vec<T>::Zero(rows), shift[l] = Vec<T>::Zero(rows);
    if (s.op(l).learn_alpha) alpha[l] = Vec<T>::Zero(1);
  }
}

template <class T>
void set_norms_and_scales(const NetworkSpec& s, Params<T>& p) {
  for (Index l = 1; l <= s.depth(); ++l) {
    p.gain[l].setOnes();
    p.shift[l].setZero();
    p.alpha[l].setConstant(static_cast<T>(s.op(l).alpha));
  }
}

template <class T>
void draw_params(const NetworkSpec& s, Params<T>& p) {
  const Index L = s.depth();
  for (Index l = 1; l <= L; ++l) {
    throw_if_interrupted();
    if (!s.regenerate_weights) draw_layer_weights<T>(s, l, p.W[l]);
    draw_biases<T>(s.bias_init, s.seed, static_cast<std::uint32_t>(l), p.b[l]);
  }
  set_norms_and_scales(s, p);
  const WeightInit head{"lecun_normal", WeightDist::normal, find_init("lecun_normal"), {}, {}, {}};
  if (s.weight_init.fixup) p.W[L + 1].setZero();
  else draw_weights<T>(head, s.seed, Stream::head, 0, p.W[L + 1], s.threads);
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
  draw_layer_weights<T>(s, l, w);
  return {scratch.data(), rows, cols};
}

#define GF_INSTANTIATE(T)                                                                    \
  template struct Params<T>;                                                                 \
  template void set_norms_and_scales<T>(const NetworkSpec&, Params<T>&);                     \
  template void draw_params<T>(const NetworkSpec&, Params<T>&);                              \
  template Params<T> initial_params<T>(const NetworkSpec&);                                  \
  template Eigen::Map<const RowMat<T>> layer_weights<T>(const NetworkSpec&, const Params<T>&, Index, Vec<T>&);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
