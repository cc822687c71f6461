#pragma once
// The trainable parameters of a network: hidden layers l = 1..L and the linear head as layer
// L+1. The same struct holds gradients and the optimizer's moment estimates, so an update is
// one loop over (W, b) pairs.
#include <vector>

#include "network.h"
#include "tensor.h"

namespace gf {

template <class T>
struct Params {
  std::vector<RowMat<T>> W;  // W[l] (n_l, n_{l-1}); W[L+1] = the head (C, n_L); W[0] unused
  std::vector<Vec<T>> b;     // b[l] (n_l); b[L+1] (C)

  Params() = default;
  explicit Params(const NetworkSpec& s);  // shaped for s, every entry 0
  Index layers() const { return static_cast<Index>(W.size()) - 1; }  // L + 1
};

// Initial parameters, drawn exactly as `analyze` draws the same spec (Stream::weights and
// Stream::biases for hidden layers; Stream::head, lecun_normal, for the head); head bias 0.
template <class T>
Params<T> initial_params(const NetworkSpec& s);

}  // namespace gf
