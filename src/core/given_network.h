#pragma once
// A network given from outside rather than built from flags (`analyze --model`, model/): its
// ops, the names it had in its file, and its weights in double; and a batch given as data
// (`--data`), in file order. Core runs them as it runs a drawn network (analysis.cc).
#include <cstdint>
#include <string>
#include <vector>

#include "base/tensor.h"
#include "core/layer_op.h"
#include "core/network.h"
#include "core/params.h"

namespace gf {

struct GivenNetwork {
  Index input_width = 0;
  std::vector<LayerOp> ops;        // hidden layers, then the head (as plain_stack builds them)
  std::vector<std::string> names;  // per op: the file's name of its weight (or node)
  // Per op l = 1 .. L + 1 at index l - 1: W (n_l, n_{l-1}) and b (n_l), as stored in the file.
  std::vector<RowMat<double>> W;
  std::vector<Vec<double>> b;
  // Per op, its norm's gain and shift (Params::gain, shift; n_l each), empty without a norm.
  std::vector<Vec<double>> gain, shift;
};

struct GivenBatch {
  Mat<double> x;                      // (B, n_0), one sample per row
  std::vector<std::uint32_t> labels;  // class of each sample
};

// The given weights into p (shaped for the given ops by Params(spec), stored, not regenerated):
// every layer's and the head's W and b, and the norms' gain and shift where the file has them
// (set_norms_and_scales gives the rest).
template <class T>
void load_given_weights(const GivenNetwork& g, Params<T>& p);
// The given batch into ws: A[0], the labels, and mse's one-hot targets (random's direction stays).
template <class T>
void load_given_batch(const GivenBatch& d, LossKind loss, Workspace<T>& ws);
// "fc1.weight (16, tanh), fc2.weight (16, relu), head fc3.weight (3)": the layers as named in the file
// (a norm and a residual block said too: "fc1.weight (16, layer norm, tanh; block 1)").
std::string given_layers_text(const GivenNetwork& g);
// An op's norm in words, where it sits said for a residual net: "layer norm", "pre-layer norm",
// "post-batch norm (running statistics)"; "" without one.
std::string given_norm_text(const LayerOp& op);

}  // namespace gf
