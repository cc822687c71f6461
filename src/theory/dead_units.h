#pragma once
// Dead units at initialisation, predicted. A unit is dead on a batch when phi'(h) = 0 on every
// one of its B samples. Over the random weights, one unit's pre-activations on B inputs are
// Gaussian, each N(mu, v), every pair with the same correlation c (mean-field: the inputs are
// exchangeable). Such equicorrelated Gaussians are h_b = mu + sqrt(v) (sqrt(c) z0 + sqrt(1-c) z_b)
// with z0, z_b independent, so given z0 the samples are independent and
//   P(dead) = E_z0[ P(h_b in the dead zone | z0)^B ],
// a one-dimensional integral (the orthant probability of B equicorrelated Gaussians for relu).
#include <span>
#include <vector>

#include "theory/gaussian_expect.h"

namespace gf {

// A piece of the line, ends possibly infinite.
struct Interval {
  double lo, hi;
};

// Where phi' is exactly 0: the pieces between the activation's kinks on which phi' vanishes
// (relu: (-inf, 0); hard_tanh: (-inf, -1) and (1, inf); leaky_relu with slope 0 like relu).
std::vector<Interval> dead_zone(const Phi& phi);

// Share of units dead on a batch of B inputs whose pre-activations are N(mu, v) with pairwise
// correlation c (clamped to [0, 1]). 0 when phi has no dead zone.
double dead_unit_probability(std::span<const Interval> zone, double mu, double v,
                             double c, long long batch);

// With zero biases and symmetric weights, each unit of a layer is negative with probability 1/2
// independently of the others, whatever the layer below sent, so a relu layer of width N
// outputs all zeros with probability 2^-N; once it does, every layer above does too. The
// probability that one input's signal dies somewhere in the stack (Lu et al. 2019, "Dying ReLU
// and initialization"): 1 - prod_l (1 - 2^-N_l).
double born_dead_probability(std::span<const long long> widths);

}  // namespace gf
