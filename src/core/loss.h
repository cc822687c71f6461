#pragma once
// The linear head and the loss, forward and backward side by side. z (B, C) = a_L W_head^T.
//   xent    mean over the batch of softmax cross-entropy against labels y
//           L = 1/B sum_b [logsumexp(z_b) - z_b,y_b]          d z = (softmax(z) - onehot(y)) / B
//   mse     L = 1/(2B) sum_{b,c} (z_bc - t_bc)^2, t ~ N(0,1)    d z = (z - t) / B
//   random  L = 1/B sum_{b,c} r_bc z_bc, r ~ N(0,1)            d z = r / B
//           (a fixed Gaussian direction: mean-field theory's assumption for the backward pass)
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/enum_names.h"
#include "core/network.h"

namespace gf {

template <class T>
double loss_forward(LossKind kind, const Mat<T>& z, const std::vector<std::uint32_t>& labels,
                    const Mat<T>& targets);

template <class T>
void loss_backward(LossKind kind, const Mat<T>& z, const std::vector<std::uint32_t>& labels,
                   const Mat<T>& targets, Mat<T>& d_z);

}  // namespace gf
