#pragma once
// How n units (columns) are cut into blocks, and runs of blocks into the groups that share one
// matrix product. Shape arithmetic only, no Eigen: the probe's reference GEMM
// (bench/gemm_reference.cc), built apart from gradflow_core, cuts its products by these rules too.
#include <algorithm>
#include <cstddef>

namespace gf {

using Index = std::ptrdiff_t;  // Eigen::Index, as base/tensor.h declares it

// Units (columns) per block: the unit of every statistic summed over blocks (in block order),
// of the weight draw's runs and of dropout's. A multiple of every SIMD width Eigen uses.
inline constexpr Index kBlockCols = 64;

inline Index block_count(Index n) { return std::max<Index>(1, (n + kBlockCols - 1) / kBlockCols); }
inline Index block_begin(Index b) { return b * kBlockCols; }
inline Index block_size(Index b, Index n) { return std::min(kBlockCols, n - b * kBlockCols); }

// Blocks per group. Each call of a product packs its whole shared operand (the B x n_in
// activations, or d_h) whatever the number of columns it computes (Goto and van de Geijn,
// "Anatomy of high-performance matrix multiplication", ACM TOMS 34(3), 2008), so 64-column
// calls at width 1024 pack it 16 times per product. A group of blocks shares one call: half
// the units in whole blocks, at most kMaxGroupBlocks, so two groups up to width 512, four of
// four blocks at width 1024, and one block per group up to 128 units. Halves rather than
// quarters because at width 256 two 128-column calls beat four 64-column ones (d20 w256: a
// median 0.73 of the best GEMM against 0.69, docs/performance.md).
// Depends on n only, and grows with n (network.cc sizes its per-thread scratch for the widest
// layer). Statistics stay per block.
// Each column of a group's product gets the bits its block's own product gave it: Eigen cuts
// the inner dimension by that dimension and the cache sizes alone (tests/core/layer_test.cc),
// except where a lone block was so thin that Eigen took another path for it (one column: a
// matrix-vector product), which only a width of 64 k + 1 above 128 units or tiny layers meet.
inline constexpr Index kMaxGroupBlocks = 4;
inline Index group_blocks(Index n) {
  return std::clamp<Index>((n + 2 * kBlockCols - 1) / (2 * kBlockCols), 1, kMaxGroupBlocks);
}
inline Index group_cols(Index n) { return std::min(n, group_blocks(n) * kBlockCols); }

// Blocks [first, last) of n units: columns [c0, c0 + cols).
struct BlockGroup {
  Index first = 0, last = 0, c0 = 0, cols = 0;
};
inline Index group_count(Index n) { return (block_count(n) + group_blocks(n) - 1) / group_blocks(n); }
inline BlockGroup block_group(Index g, Index n) {
  BlockGroup r;
  r.first = g * group_blocks(n);
  r.last = std::min(block_count(n), r.first + group_blocks(n));
  r.c0 = block_begin(r.first);
  r.cols = std::min(n, block_begin(r.last)) - r.c0;
  return r;
}

}  // namespace gf
