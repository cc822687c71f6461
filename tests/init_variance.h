#pragma once
// The variance of a layer's initial weights as drawn: what the init tests measure against each
// scheme's closed form (He et al. 2015: 2/fan_in; Glorot & Bengio 2010: 2/(fan_in+fan_out)).
#include <cstddef>
#include <cstdint>

#include "core/activation.h"
#include "core/analysis.h"
#include "core/params.h"

namespace gf::test {

// Var(W_l) as measured: the mean of W_ij^2 (the draw's mean is 0), over the draws of `seeds`
// seeds (0 .. seeds-1) of c's network.
inline double measured_variance(AnalysisConfig c, Index l, int seeds) {
  double sum = 0;
  Index n = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    c.seed = static_cast<std::uint64_t>(seed);
    const Params<double> p =
        initial_params<double>(network_spec(c, *find_activation(c.activations[0])));
    sum += p.W[static_cast<std::size_t>(l)].squaredNorm();
    n += p.W[static_cast<std::size_t>(l)].size();
  }
  return sum / static_cast<double>(n);
}

}  // namespace gf::test
