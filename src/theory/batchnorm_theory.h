#pragma once
// BatchNorm at initialisation (Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz 2019, "A Mean
// Field Theory of Batch Normalization", ICLR): in a plain stack h -> BN(h) -> phi with batch
// statistics, the gradient's squared norm grows geometrically towards the input whatever the
// init, because BN couples the samples. For relu the factor per layer tends to pi / (pi - 1) as
// the batch grows (their large-batch limit). Their general formula for other activations is an
// eigenvalue of the backward map at the batch's fixed-point covariance (the BSB1 fixed point),
// which gradflow does not compute: for those the prediction is absent and the reports say so.
#include <optional>
#include <string>

#include "theory/gaussian_expect.h"

namespace gf {

// ||dL/dW_l||^2 / ||dL/dW_{l+1}||^2 deep in a BatchNorm stack of phi, as the batch grows; nullopt
// where gradflow has no prediction (every activation but relu).
std::optional<double> batchnorm_grad2_growth(const Phi& phi);

// The sentence the reports print: the prediction with its source, or what is not covered.
std::string batchnorm_theory_note(const Phi& phi);

}  // namespace gf
