#pragma once
// The update rules of `gradflow train`. With g the gradient of a weight matrix plus
// weight_decay * W (L2, coupled; biases are not decayed):
//   sgd       W -= lr g
//   momentum  v = mu v + g;  W -= lr v                           (heavy ball, as PyTorch's SGD)
//   adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  t = step number from 1
//             W -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)  (Kingma & Ba 2015)
#include <string_view>
#include <vector>

#include "core/enum_names.h"
#include "core/params.h"

namespace gf {

enum class OptimizerKind { sgd, momentum, adam };
std::span<const EnumName<OptimizerKind>> optimizer_kind_names();  // --optimizer's words
inline std::string_view optimizer_name(OptimizerKind k) { return name_of(optimizer_kind_names(), k); }

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0.05;
  double momentum = 0.9;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
};

// Sizes of one step, per layer l = 1..L+1 (index 0 unused), in f64.
struct UpdateNorms {
  std::vector<double> weight_sumsq;  // ||W_l||^2 before the step
  std::vector<double> update_sumsq;  // ||delta W_l||^2 of the step
};

template <class T>
class Optimizer {
 public:
  Optimizer(const OptimizerConfig& c, const NetworkSpec& shape);
  // p -= the update for gradient g; fills `norms` when given.
  void step(Params<T>& p, const Params<T>& g, UpdateNorms* norms = nullptr);
  long steps_taken() const { return t_; }

 private:
  OptimizerConfig c_;
  Params<T> m_, v_;  // momentum: m_ is the velocity; adam: first and second moments
  long t_ = 0;
};

}  // namespace gf
