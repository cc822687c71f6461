#pragma once
// What one pass over one batch shares between the walk (engine.cc) and the ops it calls
// (core/op_<kind>, listed in core/op_table): the policy that says how gradients are treated, the results, and `Pass`,
// the state every op's forward and backward reads and writes.
#include <cstdint>
#include <vector>

#include "core/network.h"
#include "core/params.h"
#include "core/stats.h"

namespace gf {

struct PassResult {
  std::vector<LayerStats> layers;  // layers[l - 1] for hidden layer l
  std::vector<BlockStats> blocks;  // blocks[k - 1] for residual block k (none in a plain stack)
  double loss = kNaN;
  Index overflow_layer = 0;   // first layer with a non-finite value (depth + 1: the logits); 0 if none
  Index zero_grad_layer = 0;  // analyze: highest layer whose d loss / d h is exactly 0; 0 if none
  // analyze: layer whose gradient would not be exact, because slopes below the dtype's normal
  // range may carry more than kExactTolerance of its norm; it and the layers below get no
  // figures. 0 if none.
  Index inexact_layer = 0;
};

// The relative error a gradient norm may have before it is called not exact (op_dense.cc).
inline constexpr double kExactTolerance = 1e-6;

// True-scale gradients of every layer, kept only when a test asks for them (analyze).
struct GradientTap {
  std::vector<Mat<double>> d_h;  // d_h[l] (B, n_l), l = 1..L
  std::vector<Mat<double>> d_W;  // d_W[l] (n_l, n_{l-1})
};

// BatchNorm's running statistics in `train` (torch.nn.BatchNorm1d's buffers): per op slot l with a
// BatchNorm, per unit, mean 0 and variance 1 at first; each training batch folds in as
// r <- (1 - momentum) r + momentum x_t, x_t the batch's mean and its unbiased variance (B / (B - 1)
// times the biased one the forward normalises with; the biased one at B = 1), momentum 0.1.
struct NormRunning {
  explicit NormRunning(const NetworkSpec& s);
  double momentum = 0.1;
  std::vector<Vec<double>> mean, var;  // [l]; empty for slots without a BatchNorm
  bool any() const;                    // whether the network has a BatchNorm at all
};

// How a pass treats its gradients; the walk is the same for both.
template <class T>
struct PassPolicy {
  int threads = 1;
  // null: analyze (renormalised backward, rescaled underflowing slopes, d W reduced to
  // statistics in the workspace's scratch). Otherwise train: true-scale d W, d b into *grads.
  Params<T>* grads = nullptr;
  // train: also what only a record reads (d W's sign coherence, the residual blocks' records):
  // set on steps whose record may be written.
  bool record_stats = true;
  GradientTap* tap = nullptr;   // analyze: keep true-scale d h and d W for a test
  // --dropout: whether this pass drops units (train's evaluation passes do not), and the step
  // whose mask it draws (analyze: 0; train: each step its own, core/dropout.h).
  bool dropout = true;
  std::uint64_t step = 0;
  // train with BatchNorm: its running statistics (NormRunning below). A training step (step > 0)
  // folds each batch's statistics into them; an evaluation pass (step 0) normalises with them
  // instead of the batch's: PyTorch's train() and eval() modes. null: batch statistics always.
  NormRunning* running = nullptr;

  bool analyze() const { return grads == nullptr; }
  bool running_stats() const { return running != nullptr && step == 0; }  // evaluation with running stats
};

template <class T>
PassPolicy<T> analyze_policy(const NetworkSpec& s, GradientTap* tap = nullptr) {
  return {s.threads, nullptr, true, tap};
}
// Training's pass; `step` > 0: a training step, with its own dropout mask; 0: an evaluation
// pass, without dropout.
template <class T>
PassPolicy<T> train_policy(int threads, Params<T>& grads, bool record_stats, std::uint64_t step = 0,
                           NormRunning* running = nullptr) {
  return {threads, &grads, record_stats, nullptr, step > 0, step, running};
}

// One pass in progress: what every op's forward and backward reads and writes. Between ops,
// backward keeps d loss / d a of the op just above in ws.grad_a (B, n); an op's backward
// reads it there and leaves the gradient of its own input there.
template <class T>
struct Pass {
  const NetworkSpec& s;
  const Params<T>& p;
  Workspace<T>& ws;
  const PassPolicy<T>& policy;
  PassResult& out;
  // analyze: log10 of the factor divided out of the gradient so far (backward renormalises the
  // gradient at each layer and carries the scale here); train: 0.
  double scale = 0;
  // Inside a residual block's branch, backward: the stream's own gradient d loss / d s' waits in
  // ws.skip_grad, at log10 scale skip_scale, to be added at the branch's first layer
  // (op_residual.cc); blocks do not nest, so one is enough.
  bool in_branch = false;
  double skip_scale = 0;
};

}  // namespace gf
