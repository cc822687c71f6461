#pragma once
// The forward and backward passes over a whole network, layer by layer, producing the
// per-layer statistics. Backward renormalises the gradient at every layer and carries its
// scale as a log, so gradients far below the float range (10^-300 at depth 500) are exact;
// a layer whose slopes themselves underflow has them computed again with their scale taken
// out, so that holds there too.
#include <vector>

#include "network.h"
#include "stats.h"

namespace gf {

struct PassResult {
  std::vector<LayerStats> layers;  // layers[l - 1] for hidden layer l
  double loss = kNaN;
  Index overflow_layer = 0;   // first layer with a non-finite value (depth + 1: the logits); 0 if none
  Index zero_grad_layer = 0;  // highest layer whose d loss / d h is exactly 0; 0 if none
  // Layer whose gradient would not be exact, because slopes below the dtype's normal range may
  // carry more than kExactTolerance of its norm; it and the layers below get no figures. 0 if none.
  Index inexact_layer = 0;
};

// The relative error a gradient norm may have before it is called not exact (engine.cc).
inline constexpr double kExactTolerance = 1e-6;

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
