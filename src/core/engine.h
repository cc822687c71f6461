#pragma once
// The one forward and one backward walk over a network, serving both commands. What differs
// between them is a PassPolicy, not a second copy of the loops:
//  - analyze: the backward pass renormalises the gradient at every layer and carries its scale
//    as a log, so gradients far below the float range (10^-300 at depth 500) are exact; a layer
//    whose slopes themselves underflow has them computed again with their scale taken out; d W
//    is reduced block by block to its statistics and never stored.
//  - train: gradients at true scale, d W and d b of every layer (head included) stored for the
//    optimiser, and on request the same d W statistics from the same kernel.
#include "core/pass.h"

namespace gf {

// Each op of s.ops forward, in order (for a plain stack: h_l = a_{l-1} W_l^T + b_l,
// a_l = phi_l(h_l), l = 1..L; z = a_L W_head^T + b_head; the loss). Stops at the first
// non-finite layer (out.overflow_layer). ws.A[0] and the labels/targets are the batch.
template <class T>
void forward_pass(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, const PassPolicy<T>& policy,
                  PassResult& out);

// Backward of forward_pass: each op's backward, in reverse (the head: d z; a dense layer l:
// d h_l = d a_l * phi_l'(h_l), d W_l = d h_l^T a_{l-1}, d b_l = sum over the batch of d h_l,
// d a_{l-1} = d h_l W_l). Needs a finite forward.
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
