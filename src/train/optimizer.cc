#include "train/optimizer.h"

#include <cmath>

namespace gf {

namespace {
const EnumName<OptimizerKind> kOptimizers[] = {
    {"sgd", OptimizerKind::sgd}, {"momentum", OptimizerKind::momentum}, {"adam", OptimizerKind::adam}};
}  // namespace

std::span<const EnumName<OptimizerKind>> optimizer_kind_names() { return kOptimizers; }

template <class T>
Optimizer<T>::Optimizer(const OptimizerConfig& c, const NetworkSpec& shape) : c_(c) {
  if (c_.kind != OptimizerKind::sgd) m_ = Params<T>(shape);
  if (c_.kind == OptimizerKind::adam) v_ = Params<T>(shape);
}

namespace {

// One tensor, updated in place (no temporaries: this runs every step). Returns ||delta x||^2
// when `measure` is set, else 0.
template <class T>
struct TensorUpdate {
  const OptimizerConfig& c;
  T adam_scale_m, adam_scale_v;  // 1 / (1 - beta^t)

  template <class X>
  double apply(OptimizerKind kind, X& x, const X& grad, X* m, X* v, T decay, bool measure) const {
    const T lr = static_cast<T>(c.lr);
    auto g = grad.array() + decay * x.array();
    double sumsq = 0;
    switch (kind) {
      case OptimizerKind::sgd:
        if (measure) sumsq = (lr * g).template cast<double>().square().sum();
        x.array() -= lr * g;
        break;
      case OptimizerKind::momentum:
        m->array() = static_cast<T>(c.momentum) * m->array() + g;
        if (measure) sumsq = (lr * m->array()).template cast<double>().square().sum();
        x.array() -= lr * m->array();
        break;
      case OptimizerKind::adam: {
        const T b1 = static_cast<T>(c.beta1), b2 = static_cast<T>(c.beta2);
        m->array() = b1 * m->array() + (T(1) - b1) * g;
        v->array() = b2 * v->array() + (T(1) - b2) * g.square();
        auto delta = lr * (m->array() * adam_scale_m) / ((v->array() * adam_scale_v).sqrt() + static_cast<T>(c.eps));
        if (measure) sumsq = delta.template cast<double>().square().sum();
        x.array() -= delta;
        break;
      }
    }
    return sumsq;
  }
};

}  // namespace

template <class T>
void Optimizer<T>::step(Params<T>& p, const Params<T>& g, UpdateNorms* norms) {
  ++t_;
  const TensorUpdate<T> rule{c_, static_cast<T>(1.0 / (1.0 - std::pow(c_.beta1, static_cast<double>(t_)))),
                     static_cast<T>(1.0 / (1.0 - std::pow(c_.beta2, static_cast<double>(t_))))};
  const bool has_m = c_.kind != OptimizerKind::sgd, has_v = c_.kind == OptimizerKind::adam;
  const auto n = static_cast<std::size_t>(p.layers() + 1);
  if (norms) {
    norms->weight_sumsq.assign(n, 0.0);
    norms->update_sumsq.assign(n, 0.0);
  }
  for (Index l = 1; l <= p.layers(); ++l) {
    if (norms) norms->weight_sumsq[static_cast<std::size_t>(l)] = p.W[l].template cast<double>().squaredNorm();
    const double dw = rule.apply(c_.kind, p.W[l], g.W[l], has_m ? &m_.W[l] : nullptr, has_v ? &v_.W[l] : nullptr,
                                 static_cast<T>(c_.weight_decay), norms != nullptr);
    rule.apply(c_.kind, p.b[l], g.b[l], has_m ? &m_.b[l] : nullptr, has_v ? &v_.b[l] : nullptr, T(0), false);
    if (p.gain[l].size() > 0) {  // a norm's gain and shift, like biases: no weight decay
      rule.apply(c_.kind, p.gain[l], g.gain[l], has_m ? &m_.gain[l] : nullptr, has_v ? &v_.gain[l] : nullptr, T(0), false);
      rule.apply(c_.kind, p.shift[l], g.shift[l], has_m ? &m_.shift[l] : nullptr, has_v ? &v_.shift[l] : nullptr, T(0),
                 false);
    }
    if (p.alpha[l].size() > 0)  // ReZero's alpha: no weight decay either
      rule.apply(c_.kind, p.alpha[l], g.alpha[l], has_m ? &m_.alpha[l] : nullptr, has_v ? &v_.alpha[l] : nullptr, T(0),
                 false);
    if (norms) norms->update_sumsq[static_cast<std::size_t>(l)] = dw;
  }
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace gf
