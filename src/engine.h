#pragma once
// The forward and backward passes over a whole network, layer by layer, producing the
// per-layer statistics. Backward renormalises the gradient at every layer and carries its
// scale as a log, so gradients far below the float range (10^-300 at depth 500) are exact.
#include <vector>

#include "network.h"
#include "stats.h"

namespace gf {

struct PassResult {
  std::vector<LayerStats> layers;  // layers[l - 1] for hidden layer l
  double loss = kNaN;
  Index overflow_layer = 0;   // first layer with a non-finite value (depth + 1: the logits); 0 if none
  Index zero_grad_layer = 0;  // highest layer whose d loss / d h is exactly 0; 0 if none
};

// True-scale gradients of every layer, kept only when a test asks for them.
struct GradientTap {
  std::vector<Mat<double>> d_h;  // d_h[l] (B, n_l), l = 1..L
  std::vector<Mat<double>> d_W;  // d_W[l] (n_l, n_{l-1})
};

template <class T>
void network_forward(Network<T>& net, PassResult& out);

template <class T>
void network_backward(Network<T>& net, PassResult& out, GradientTap* tap = nullptr);

}  // namespace gf
