#pragma once
// The parameters of a network, the one store both commands use: hidden layers l = 1..L and
// the linear head as layer L+1. `train` keeps its gradients and the optimizer's moment
// estimates in the same struct, so an update is one loop over (W, b) pairs.
#include <string>
#include <vector>

#include "base/tensor.h"
#include "core/network.h"

namespace gf {

template <class T>
struct Params {
  std::vector<RowMat<T>> W;  // W[l] (n_l, n_{l-1}); W[L+1] = the head (C, n_L); W[0] unused
  std::vector<Vec<T>> b;     // b[l] (n_l); b[L+1] (C)
  // The learned gain and shift of a layer's norm (core/op_norm; LayerOp::norm), (n_l) each, 1
  // and 0 at init; empty for layers without one.
  std::vector<Vec<T>> gain, shift;
  // A ReZero block's alpha (LayerOp::learn_alpha), one entry on its skip_add layer, op.alpha at
  // init; empty elsewhere (a fixed alpha is the op's).
  std::vector<Vec<T>> alpha;

  Params() = default;
  // Shaped for s, every entry 0, or left undefined (`zeroed` false) for a store that
  // draw_params fills at once: zeroing gigabytes first would cost seconds that Ctrl-C could not
  // interrupt. With s.regenerate_weights the hidden W[l] stay empty: the pass draws each again
  // when it needs it (layer_weights).
  explicit Params(const NetworkSpec& s, bool zeroed = true);
  Index layers() const { return static_cast<Index>(W.size()) - 1; }  // L + 1
};

// What hidden layer l (1..L) draws with: s.weight_init, but under --init auto and fixup
// (WeightInit::per_layer) with the auto scheme of the layer's own activation (activation.h's
// table): as a plain net of that activation draws the layer, and as torch.nn.init.kaiming_*
// is called with the nonlinearity that follows the layer (He et al. 2015 derive the same
// variance from the backward pass, from that layer's phi'). A linear layer (a residual net's
// input projection, a branch's last layer) has no activation of its own; it takes the nearest
// activation's scheme, before it, else after it, which keeps every single-activation net's
// draw as it was. The one place --init auto meets the layers: the
// drawer, the run's label (init_schemes_text) and the mean-field model all ask it.
WeightInit layer_init(const NetworkSpec& s, Index l);

// The scheme(s) s's hidden layers draw with, for the run's label: one scheme's name when they
// share it ("he_normal"), else "per layer: he_normal for relu layers, xavier_normal for tanh
// layers" (each scheme with the activations it serves, in order of first use).
struct InitSchemesText {
  std::string text;
  bool per_layer = false;  // more than one scheme
};
InitSchemesText init_schemes_text(const NetworkSpec& s);

// The factor on hidden layer l's drawn weights over layer_init(s, l)'s: 1 but under --init fixup.
double init_factor(const NetworkSpec& s, Index l);

// The one weight drawer: hidden layers from Stream::weights and Stream::biases, the head from
// Stream::head with lecun_normal, head bias 0. Fills what `p` stores (see Params(s)).
template <class T>
void draw_params(const NetworkSpec& s, Params<T>& p);

// What is not drawn: every norm's gain 1 and shift 0, each block's alpha (the op's). draw_params
// calls it; a given network's weights (given_network.h) start from it.
template <class T>
void set_norms_and_scales(const NetworkSpec& s, Params<T>& p);

// Params(s) drawn by draw_params.
template <class T>
Params<T> initial_params(const NetworkSpec& s);

// The weights of hidden layer l (1..L): stored, or drawn again into `scratch`, which holds the
// largest layer (Workspace::W_scratch).
template <class T>
Eigen::Map<const RowMat<T>> layer_weights(const NetworkSpec& s, const Params<T>& p, Index l, Vec<T>& scratch);

}  // namespace gf
