#pragma once
// Inverted dropout (Srivastava et al. 2014) after a hidden layer's activation, the op's
// `dropout` p (layer_op.h): a = phi(h) m / (1 - p) with m ~ Bernoulli(1 - p), so E[a] = phi(h).
// Layer l's output A[l] (B, n) and slopes D[l] (B, n) are both multiplied by m / (1 - p): the
// next layer reads the dropped activation, and every backward (d_h = d_a * D[l]) then
// differentiates the masked network with no change of its own, and so does --jacobian's walk
// (dense_jacobian: J_l = diag(phi'(h_l) m_l / (1 - p)) W_l J_{l-1}, each sample with its own mask). The layer's forward statistics
// (saturation, dead units, offsets) are taken before, at phi's input and output.
//
// The mask is a pure function of (seed, layer, step, sample, unit): unit j of sample r at step t
// of a batch of B keeps its value when draw (t B + r) n + j of stream Stream::dropout, layer l
// (rng.h) is at least round(p 2^32), so any --threads and --weights give the same mask.
// analyze draws step 0; train a fresh mask per step (PassPolicy::step), none for evaluation.
#include <cstdint>

#include "core/pass.h"

namespace gf {

// The lowest 32-bit draw that keeps a unit: round(p 2^32), for 0 <= p < 1.
std::uint64_t dropout_threshold(double p);

template <class T>
void dropout_forward(Pass<T>& pass, Index l);

}  // namespace gf
