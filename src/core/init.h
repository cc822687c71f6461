#pragma once
// Weight and bias initialisation: the scheme table (for --init, --help and `gradflow list`) and
// the drawing of one layer's parameters from the counter-based generator.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/tensor.h"
#include "core/rng.h"

namespace gf {

enum class WeightDist { normal, uniform, orthogonal };

struct InitScheme {
  std::string_view name;
  std::string_view description;
  std::string_view variance;  // Var(W_ij), as printed by `gradflow list`
  WeightDist dist;
  double (*variance_of)(double fan_in, double fan_out);
  // The gain^2 built into variance_of: 2 for He's schemes (torch's kaiming_* with the relu gain
  // sqrt 2), 1 for the others. --gain G replaces it by G^2, as torch.nn.init's gain argument does.
  double gain2 = 1;
};

std::span<const InitScheme> init_schemes();
const InitScheme* find_init(std::string_view name);  // nullptr if unknown
// Zhang et al. 2019's Fixup, for residual networks only: not a variance but a rule per layer
// (params.cc's init_factor) on top of each layer's auto scheme (params.h's layer_init).
inline constexpr std::string_view kFixup = "fixup";
inline constexpr std::string_view kFixupHelp =
    "Zhang et al. 2019, residual nets only: each layer's auto scheme, every branch layer scaled by "
    "blocks^(-1/(2K-2)), each branch's last layer and the head zero (every block the identity at init)";
// "auto", the schemes, and with `residual` fixup.
std::vector<std::string> init_names(bool residual = false);

// How one run draws its weights, once --init, --sigma-w2 and --weight-std are resolved.
struct WeightInit {
  std::string label;  // for reports: "he_normal", "sigma_w2=1.5", "weight_std=0.01"
  WeightDist dist = WeightDist::normal;
  const InitScheme* scheme = nullptr;  // set for named schemes
  std::optional<double> sigma_w2;      // Var = sigma_w2 / fan_in (or orthogonal gain^2)
  std::optional<double> weight_std;    // Var = weight_std^2
  std::optional<double> gain;          // --gain: std = gain x the scheme's std at gain 1 (torch.nn.init)
  bool fixup = false;                  // the scheme, scaled per layer by Fixup's rule (params.cc)
  // --init auto and fixup: `scheme` is the net's activation's auto scheme, and each hidden layer
  // draws with its own activation's instead (params.h's layer_init, the one place that says which).
  bool per_layer = false;
  double variance(Index fan_in, Index fan_out) const;
  double orthogonal_gain() const;      // the factor of an orthogonal matrix
};

struct BiasInit {
  double constant = 0.0;
  std::optional<double> sigma_b2;  // if set, b ~ N(0, sigma_b2) instead of the constant
};

// W (n_out, n_in) for hidden layer `layer` (1-based) or the head. Every draw depends only on
// (seed, stream, layer, index), so this can be called again to regenerate the same weights.
template <class T>
void draw_weights(const WeightInit& init, std::uint64_t seed, Stream stream, std::uint32_t layer,
                  RowMatRef<T> W, int threads);
template <class T>
void draw_biases(const BiasInit& init, std::uint64_t seed, std::uint32_t layer, VecRef<T> b);

}  // namespace gf
