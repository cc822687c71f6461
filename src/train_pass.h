#pragma once
// One training network's forward and backward passes, side by side, built from the analysis
// kernels of layer.h (so the statistics mean exactly what `analyze` reports) but at true scale
// and producing the full gradient of every W and b, head included. Every product is split into
// blocks of units (parallel.h), so results are the same for any thread count.
#include <cstdint>
#include <vector>

#include "loss.h"
#include "stats.h"
#include "train_params.h"

namespace gf {

// The activations of one batch size, sized once (llm.c's activation memory).
template <class T>
struct Workspace {
  Workspace(const NetworkSpec& s, Index batch);
  Index batch;
  std::vector<Mat<T>> A;              // A[0] = x (B, n_0); A[l] = phi(h_l) (B, n_l)
  std::vector<Mat<T>> D;              // D[l] = phi'(h_l) (B, n_l)
  Mat<T> Z, dZ;                       // logits and d loss / d logits (B, C)
  Mat<T> targets;                     // mse: one-hot labels (B, C)
  std::vector<std::uint32_t> labels;  // (B)
  Vec<T> grad_a, grad_h;              // B * n_max each, ping-pong: d loss / d a_l and / d h_l
  std::vector<ForwardPartial> parts;  // per block of the layer in hand

  // Copies rows `rows` of x and y into A[0] and labels (and targets).
  void load(const Mat<double>& x, const std::vector<std::uint32_t>& y, const std::uint32_t* rows);
};

struct ForwardOutcome {
  double loss = kNaN;
  Index nonfinite_layer = 0;          // first layer with a non-finite pre-activation (L+1: logits)
  std::vector<ForwardPartial> layers; // layers[l - 1]: hidden layer l's statistics on this batch
};

// h_l = a_{l-1} W_l^T + b_l, a_l = phi(h_l), l = 1..L; z = a_L W_head^T + b_head; the loss.
// Stops at the first non-finite layer.
template <class T>
ForwardOutcome train_forward(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, int threads);

// Backward of train_forward, for every parameter: d W_l = d h_l^T a_{l-1}, d b_l = sum over the
// batch of d h_l, d a_{l-1} = d h_l W_l, d h_l = d a_l * phi'(h_l). Needs a finite forward.
template <class T>
void train_backward(const NetworkSpec& s, const Params<T>& p, Workspace<T>& ws, Params<T>& grad, int threads);

// Samples of the batch whose largest logit is not their label's (ties: the first class wins).
template <class T>
Index count_errors(const Workspace<T>& ws);

}  // namespace gf
