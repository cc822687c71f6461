#pragma once
// One network to analyse: its specification, and the struct that owns all its memory, sized
// once for (batch, widths) so that the per-layer loops never allocate (llm.c's GPT2 struct).
#include <cstdint>
#include <optional>
#include <vector>

#include "activation.h"
#include "init.h"
#include "stats.h"
#include "tensor.h"

namespace gf {

enum class InputKind { normal, uniform, positive };  // N(0,1), U[-1,1), U[0,1)
enum class LossKind { xent, mse, random };

struct NetworkSpec {
  const Activation* activation = nullptr;
  double activation_param = 0.01;  // --leaky-slope
  std::vector<Index> widths;       // n_0 (input), n_1 .. n_L (hidden layers)
  Index classes = 10;
  Index batch = 256;
  InputKind input = InputKind::normal;
  LossKind loss = LossKind::xent;
  WeightInit weight_init;
  BiasInit bias_init;
  std::uint64_t seed = 0;
  double sat_eps = 0.1;
  std::optional<double> saturated_when;  // --saturated-when: saturation by the output's value
  int threads = 1;
  bool regenerate_weights = false;  // draw each layer's weights again when backward needs them

  Index depth() const { return static_cast<Index>(widths.size()) - 1; }
  Index max_width() const;
};

// Bytes the engine will allocate for this spec (weights stored or regenerated).
std::uint64_t estimate_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate);

template <class T>
struct Network {
  explicit Network(NetworkSpec s);

  NetworkSpec spec;
  // Hidden layer l = 1..L (index 0 unused). W[l] (n_l, n_{l-1}); empty when regenerating.
  std::vector<RowMat<T>> W;
  Vec<T> W_scratch;                   // regenerate mode: room for the largest layer
  std::vector<Vec<T>> b;              // b[l] (n_l)
  RowMat<T> W_head;                   // (C, n_L), lecun_normal
  std::vector<Mat<T>> A;              // A[0] = x (B, n_0); A[l] = phi(h_l) (B, n_l)
  std::vector<Mat<T>> D;              // D[l] = phi'(h_l) (B, n_l); holds h_l until phi runs
  Mat<T> Z, dZ;                       // logits and d loss / d logits (B, C)
  std::vector<std::uint32_t> labels;  // xent: class of each sample
  Mat<T> targets;                     // mse: targets; random: the direction (B, C)
  Vec<T> grad_a, grad_h;              // B * n_max each: d loss / d a_l and / d h_l, ping-pong
  std::vector<Mat<T>> dW_scratch;     // per thread: one block of d W^T (n_max, kBlockCols)
  // Per-block partial results of the layer in hand, merged in block order.
  std::vector<ForwardPartial> forward_parts;
  std::vector<double> sumsq_parts;
  std::vector<WeightGradPartial> weight_grad_parts;

  // The weights of layer l: stored, or drawn again into W_scratch.
  Eigen::Map<const RowMat<T>> weights(Index l);
};

// Draws weights, biases, head, inputs, labels and targets for a freshly built network.
template <class T>
void network_draw(Network<T>& net);

}  // namespace gf
