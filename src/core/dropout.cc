#include "core/dropout.h"

#include <array>
#include <cmath>

#include "base/parallel.h"
#include "core/rng.h"

namespace gf {

std::uint64_t dropout_threshold(double p) { return static_cast<std::uint64_t>(std::llround(std::ldexp(p, 32))); }

template <class T>
void dropout_forward(Pass<T>& pass, Index l) {
  const double p = pass.s.op(l).dropout;
  if (p == 0 || !pass.policy.dropout) return;
  Workspace<T>& ws = pass.ws;
  const Index B = ws.batch, n = pass.s.width(l);
  const std::uint64_t keep_from = dropout_threshold(p);
  const T scale = static_cast<T>(1 / (1 - p));
  const RandomStream stream{pass.s.seed, Stream::dropout, static_cast<std::uint32_t>(l)};
  const auto first_row = pass.policy.step * static_cast<std::uint64_t>(B);
  for_each_block(n, pass.policy.threads, [&](Index blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    std::array<std::uint32_t, kBlockCols> bits{};
    for (Index r = 0; r < B; ++r) {
      const std::uint64_t first = (first_row + static_cast<std::uint64_t>(r)) * static_cast<std::uint64_t>(n) +
                                  static_cast<std::uint64_t>(c0);
      fill_bits(stream, first, bits.data(), static_cast<std::size_t>(cols));
      for (Index j = 0; j < cols; ++j) {
        const T m = bits[static_cast<std::size_t>(j)] >= keep_from ? scale : T(0);
        ws.A[l](r, c0 + j) *= m;
        ws.D[l](r, c0 + j) *= m;
      }
    }
  });
}

template void dropout_forward<float>(Pass<float>&, Index);
template void dropout_forward<double>(Pass<double>&, Index);

}  // namespace gf
