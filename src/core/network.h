#pragma once
// A network's specification, and the one struct that owns a pass's memory, sized once for
// (batch, widths) so that the per-layer loops never allocate (llm.c's GPT2 struct).
#include <cstdint>
#include <optional>
#include <vector>

#include "base/tensor.h"
#include "core/activation.h"
#include "core/init.h"
#include "core/layer_op.h"
#include "core/stats.h"

namespace gf {

enum class InputKind { normal, uniform, positive };  // N(0,1), U[-1,1), U[0,1)
enum class LossKind { xent, mse, random };

// One network: its layers as data (layer_op.h), and how it is drawn and measured.
struct NetworkSpec {
  Index input_width = 0;      // n_0
  std::vector<LayerOp> ops;   // the hidden layers in order, then the head
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

  Index depth() const { return static_cast<Index>(ops.size()) - 1; }  // L: the ops before the head
  const LayerOp& op(Index l) const { return ops[static_cast<std::size_t>(l - 1)]; }  // l = 1 .. L + 1
  Index width(Index l) const { return l == 0 ? input_width : op(l).width; }        // n_l; n_{L+1} = C
  Index classes() const { return ops.back().width; }
  std::vector<Index> widths() const;  // n_0 .. n_L
  Index max_width() const;            // of n_0 .. n_L
  Index stream_width() const;         // residual nets: the stream's width n; 0 for a plain stack
};

// Bytes of one Workspace (below) for `batch` samples; `scratch_threads` blocks of d W^T for
// passes that reduce d W to statistics (analyze), 0 where it is stored (train).
std::uint64_t workspace_bytes(const NetworkSpec& spec, Dtype dtype, Index batch, int scratch_threads);
// Bytes of one parameter store (params.h): hidden layers (only the largest when
// regenerated), biases and the head.
std::uint64_t params_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate);
// Bytes `analyze` will allocate for this spec: its parameters and one workspace. `train` adds
// its own copies to the same two figures (estimate_train_bytes).
std::uint64_t estimate_bytes(const NetworkSpec& spec, Dtype dtype, bool regenerate);

// Keeps freed memory in the process for the next network (network.cc); called before a
// parameter store or workspace allocates.
void keep_freed_memory();

// Everything one pass over one batch writes, sized once for (spec, batch): the pass's only
// memory besides the parameters (llm.c's activation memory). Both commands use it: `analyze`
// one for its drawn batch, `train` one per batch size (training, evaluation, test).
template <class T>
struct Workspace {
  Workspace(const NetworkSpec& s, Index batch, int scratch_threads);
  Index batch;
  std::vector<Mat<T>> A;              // A[0] = x (B, n_0); A[l] = phi(h_l) (B, n_l)
  std::vector<Mat<T>> D;              // D[l] = phi'(h_l) (B, n_l); holds h_l until phi runs
  Mat<T> Z, dZ;                       // logits and d loss / d logits (B, C)
  std::vector<std::uint32_t> labels;  // xent: class of each sample
  Mat<T> targets;                     // mse: targets; random: the direction (B, C); xent: empty
  Vec<T> grad_a, grad_h;              // B * n_max each: d loss / d a_l and / d h_l, ping-pong
  Mat<T> skip_grad;                   // residual nets: d loss / d s' of the block in hand (B, n); else empty
  // Layers with a norm (core/op_norm): the normalised x = (h - mu) / sigma (B, n_l), and 1 / sigma
  // per unit (batch) or per sample (layer, rms), for backward; empty for the other layers.
  std::vector<Mat<T>> norm_x;
  std::vector<Vec<double>> norm_inv_sigma;
  std::vector<Mat<T>> norm_u;  // a pre-norm residual branch's input u = g N(s) + beta (B, n)
  std::vector<Mat<T>> branch_out;  // a learned-alpha block's F(s) before the add, for d alpha (B, n)
  std::vector<Mat<T>> dW_scratch;     // per thread: one group of d W^T (n_max, group_cols(n_max))
  Vec<T> W_scratch;                   // regenerated weights: room for the largest layer
  // Per-block partial results of the layer in hand, merged in block order.
  std::vector<ForwardPartial> forward_parts;
  std::vector<double> sumsq_parts;
  std::vector<WeightGradPartial> weight_grad_parts;

  // Copies rows `rows` of x and y into A[0] and labels (mse: one-hot targets).
  void load(const Mat<double>& x, const std::vector<std::uint32_t>& y, const std::uint32_t* rows);
};

// Draws `analyze`'s batch: inputs, labels and targets (or the random direction).
template <class T>
void draw_batch(const NetworkSpec& s, Workspace<T>& ws);

}  // namespace gf
