#pragma once
// Work is split into blocks whose boundaries depend only on the shapes, never on the thread
// count; each block is computed by one thread and reductions over blocks run in block order.
// That is what makes every number gradflow prints identical for any --threads.
#include <algorithm>
#include <omp.h>

#include "base/interrupt.h"
#include "base/tensor.h"

namespace gf {

// Units (columns) per block. A multiple of every SIMD width Eigen uses, large enough that a
// block's matrix product runs at full speed, small enough to feed two or more cores.
inline constexpr Index kBlockCols = 64;

inline Index block_count(Index n) { return std::max<Index>(1, (n + kBlockCols - 1) / kBlockCols); }
inline Index block_begin(Index b) { return b * kBlockCols; }
inline Index block_size(Index b, Index n) { return std::min(kBlockCols, n - b * kBlockCols); }

// Calls f(b) for every block b of n columns, on up to `threads` threads. f must not throw.
template <class F>
void for_each_block(Index n, int threads, F&& f) {
  const Index blocks = block_count(n);
  if (threads <= 1 || blocks == 1) {
    for (Index b = 0; b < blocks; ++b) f(b);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (Index b = 0; b < blocks; ++b) f(b);
}

// The same, for work whose result is thrown away on Ctrl-C (an analysis, a weight draw): once
// SIGINT/SIGTERM is seen the remaining blocks are skipped and Interrupted is thrown, so one
// layer of a wide network never holds up the exit. Never for a training step, which must end
// whole.
template <class F>
void for_each_block_or_stop(Index n, int threads, F&& f) {
  for_each_block(n, threads, [&](Index b) {
    if (!interrupt_requested()) f(b);
  });
  throw_if_interrupted();
}

}  // namespace gf
