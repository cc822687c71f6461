#include "theory/batchnorm_theory.h"

#include <fmt/format.h>

#include <numbers>
#include <string>

namespace gf {

std::optional<double> batchnorm_grad2_growth(const Phi& phi) {
  if (phi.act == nullptr || phi.act->name != "relu") return std::nullopt;
  return std::numbers::pi / (std::numbers::pi - 1);
}

std::string batchnorm_theory_note(const Phi& phi) {
  const std::string_view name = phi.act ? phi.act->name : "?";
  if (const std::optional<double> g = batchnorm_grad2_growth(phi))
    return fmt::format(
        "--norm batch: the squared gradient norm grows by {:.4f} per layer towards the input "
        "(pi/(pi-1), the "
        "large-batch limit for relu of Yang et al. 2019, whatever the init; at batch 128 the "
        "finite-batch "
        "correction is about 1%); the per-layer q, c and chi through BatchNorm are not modelled",
        *g);
  return fmt::format(
      "--norm batch with {}: BatchNorm's gradient grows geometrically towards the input whatever "
      "the init "
      "(Yang et al. 2019), but gradflow predicts its rate only for relu (pi/(pi-1) = 1.4669); for "
      "{} the rate "
      "is an eigenvalue of the backward map at the batch's fixed point, not computed here; the "
      "per-layer q, c "
      "and chi through BatchNorm are not modelled",
      name, name);
}

}  // namespace gf
