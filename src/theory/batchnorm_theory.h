#pragma once
// BatchNorm at initialisation (Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz 2019, "A Mean
// Field Theory of Batch Normalization", ICLR): in a plain stack h -> BN(h) -> phi with batch
// statistics, the gradient's squared norm grows geometrically towards the input whatever the
// init, because BN couples the samples. In the large-batch limit each unit's batch-normalised
// input u is N(0, 1), BN divides the backward gradient by the batch's standard deviation of h,
// sigma_w2 Var[phi(u)], and the dense layer and phi multiply it by sigma_w2 E[phi'(u)^2]: the
// factor per layer is E[phi'(u)^2] / Var[phi(u)] (derived so, under the gradient independence
// assumption, in K. Luther, "Batch Norm Causes Exploding Gradients", 2020). For relu it is their
// pi / (pi - 1); it exceeds 1 for every non-linear phi (the Gaussian Poincare inequality,
// Var[phi(u)] <= E[phi'(u)^2], is an equality only for linear phi). The mean field (mean_field.h) gives the
// same factor layer by layer; this is its closed form.
#include <string>

#include "theory/gaussian_expect.h"

namespace gf {

// ||dL/dW_l||^2 / ||dL/dW_{l+1}||^2 deep in a BatchNorm stack of phi, as the batch grows.
double batchnorm_grad2_growth(const Phi& phi);

// The sentence the reports print beside the numbers: the prediction, its source and its limits.
std::string batchnorm_theory_note(const Phi& phi);

}  // namespace gf
