#pragma once
// Work is split into blocks whose boundaries depend only on the shapes, never on the thread
// count; each block is computed by one thread and reductions over blocks run in block order.
// That is what makes every number gradflow prints identical for any --threads. The matrix
// products run over groups of whole blocks (blocks.h), cut by the shapes alone too.
#include <algorithm>

#include "base/blocks.h"
#include "base/interrupt.h"
#include "base/tensor.h"
#include "base/thread_team.h"

namespace gf {

// Calls f(b) for every block b of n columns, on up to `threads` threads. f must not throw.
template <class F>
void for_each_block(Index n, int threads, F&& f) {
  parallel_for(block_count(n), threads, [&f](Index b) { f(b); });
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

// Calls f(group) for every group of blocks of n columns (blocks.h), on up to `threads` threads:
// for the matrix products, one call per group. f must not throw.
template <class F>
void for_each_group(Index n, int threads, F&& f) {
  parallel_for(group_count(n), threads, [&f, n](Index g) { f(block_group(g, n)); });
}

// The same, skipped and Interrupted thrown on Ctrl-C, as for_each_block_or_stop.
template <class F>
void for_each_group_or_stop(Index n, int threads, F&& f) {
  for_each_group(n, threads, [&](const BlockGroup& g) {
    if (!interrupt_requested()) f(g);
  });
  throw_if_interrupted();
}

}  // namespace gf
