#pragma once
// The one forward and one backward walk over a network, serving both commands. What differs
// between them is a PassPolicy, not a second copy of the loops:
//  - analyze: the backward pass renormalises the gradient at every layer and carries its scale
//    as a log, so gradients far below the float range (10^-300 at depth 500) are exact; a layer
//    whose slopes themselves underflow has them computed again with their scale taken out; d W
//    is reduced block by block to its statistics and never stored.
//  - train: gradients at true scale, d W and d b of every layer (head included) stored for the
//    optimiser, and on request the same d W statistics from the same kernel.
#include <vector>

#include "core/network.h"
#include "core/params.h"
#include "core/stats.h"

namespace gf {

struct PassResult {
  std::vector<LayerStats> layers;  // layers[l - 1] for hidden layer l
  double loss = kNaN;
  Index overflow_layer = 0;   // first layer with a non-finite value (depth + 1: the logits); 0 if none
  Index zero_grad_layer = 0;  // analyze: highest layer whose d loss / d h is exactly 0; 0 if none
  // analyze: layer whose gradient would not be exact, because slopes below the dtype's normal
  // range may carry more than kExactTolerance of its norm; it and the layers below get no
  // figures. 0 if none.
  Index inexact_layer = 0;
};

// The relative error a gradient norm may have before it is called not exact (engine.cc).
inline constexpr double kExactTolerance = 1e-6;

// True-scale gradients of every layer, kept only when a test asks for them (analyze).
struct GradientTap {
  std::vector<Mat<double>> d_h;  // d_h[l] (B, n_l), l = 1..L
  std::vector<Mat<double>> d_W;  // d_W[l] (n_l, n_{l-1})
};

// How a pass treats its gradients; the walk is the same for both.
template <class T>
struct PassPolicy {
  int threads = 1;
  // null: analyze (renormalised backward, rescaled underflowing slopes, d W reduced to
  // statistics in the workspace's scratch). Otherwise train: true-scale d W, d b into *grads.
  Params<T>* grads = nullptr;
  bool weight_stats = true;     // train: also d W's statistics (layers[].dw_sign_coherence)
  GradientTap* tap = nullptr;   // analyze: keep true-scale d h and d W for a test

  bool analyze() const { return grads == nullptr; }
};

template <class T>
PassPolicy<T> analyze_policy(const NetworkSpec& s, GradientTap* tap = nullptr) {
  return {s.threads, nullptr, true, tap};
}
template <class T>
PassPolicy<T> train_policy(int threads, Params<T>& grads, bool weight_stats) {
  return {threads, &grads, weight_stats, nullptr};
}

// h_l = a_{l-1} W_l^T + b_l, a_l = phi(h_l), l = 1..L; z = a_L W_head^T + b_head; the loss.
// Stops at the first non-finite layer (out.overflow_layer). ws.A[0] and the labels/targets
// are the batch.
template <class T>
void forward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                  PassResult& out);

// Backward of forward_pass: d z, then for l = L..1 d h_l = d a_l * phi'(h_l), d W_l = d h_l^T
// a_{l-1}, d b_l = sum over the batch of d h_l, d a_{l-1} = d h_l W_l. Needs a finite forward.
template <class T>
void backward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                   PassResult& out);

// What `analyze` holds for one network: its spec, parameters and workspace.
template <class T>
struct Network {
  explicit Network(NetworkSpec s)
      : spec(std::move(s)), params(spec, false), ws(spec, spec.batch, std::max(1, spec.threads)) {}
  NetworkSpec spec;
  Params<T> params;
  Workspace<T> ws;
};

// Draws the parameters and the batch of a freshly built network.
template <class T>
void network_draw(Network<T>& net) {
  draw_params(net.spec, net.params);
  draw_batch(net.spec, net.ws);
}

template <class T>
void network_forward(Network<T>& net, PassResult& out) {
  forward_pass(net.spec, net.params, net.ws, analyze_policy<T>(net.spec), out);
}

template <class T>
void network_backward(Network<T>& net, PassResult& out, GradientTap* tap = nullptr) {
  backward_pass(net.spec, net.params, net.ws, analyze_policy<T>(net.spec, tap), out);
}

// Samples of the batch whose largest logit is not their label's (ties: the first class wins).
template <class T>
Index count_errors(const Workspace<T>& ws);

}  // namespace gf
