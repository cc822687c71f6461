#pragma once
// --init and its companions --gain, --sigma-w2 and --weight-std, as one rule: which of them go
// together, and the weights they ask for with the label reports give them. `analyze`
// (analysis.cc) and `theory` (theory/theory.cc) both ask here, so the two commands cannot read
// the same flags differently.
#include <optional>
#include <string>

#include "core/activation.h"
#include "core/init.h"
#include "core/network.h"

namespace gf {

struct InitFlags {
  std::string init = "auto";          // "auto", "fixup" or a scheme of init.h's table
  std::optional<double> gain;         // torch.nn.init's gain for the scheme
  std::optional<double> sigma_w2;     // Var = sigma_w2 / fan_in; with orthogonal, its gain^2
  std::optional<double> weight_std;   // Var = weight_std^2
};

// Throws UsageError naming two flags that both set the weights ("--init he_normal and --sigma-w2
// both set the weight variance: give one").
void check_init_flags(const InitFlags& f);

// The weights f asks for in the net s (its ops; --init auto and fixup draw each layer with its
// own activation's scheme, params.h's layer_init; `act` is the net's activation), labelled:
// "he_normal", "fixup (he_normal)", "auto (per layer: ...)", "xavier_normal gain=2",
// "orthogonal sigma_w2=2", "sigma_w2=1.5", "weight_std=0.05".
WeightInit resolve_init(const InitFlags& f, const Activation& act, const NetworkSpec& s);

// sigma_w2 = fan_in x Var(W) of w's draw in a square layer `width` wide: what mean-field theory
// reads (theory/theory.cc); a given --sigma-w2 as given.
double square_sigma_w2(const WeightInit& w, Index width);

}  // namespace gf
