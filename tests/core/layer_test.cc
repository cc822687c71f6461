// The matrix products run over groups of blocks (base/blocks.h) while every statistic stays per
// block: a group's product must give each column the bits its block's own product gives it, so
// that the grouping changes no printed digit.
#include "core/layer.h"

#include <doctest/doctest.h>
#include <cstring>
#include <vector>

#include "base/parallel.h"
#include "core/rng.h"

using namespace gf;

namespace {

template <class T>
Mat<T> normal(Index rows, Index cols, std::uint32_t which, double scale = 1) {
  Mat<T> m(rows, cols);
  fill_normal<T>({7, Stream::user, which}, 0, m.data(), static_cast<std::size_t>(m.size()), static_cast<T>(scale));
  return m;
}

template <class T, class A, class B>
bool same_bits(const A& a, const B& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Index j = 0; j < a.cols(); ++j)
    if (std::memcmp(&a(0, j), &b(0, j), sizeof(T) * static_cast<std::size_t>(a.rows())) != 0) return false;
  return true;
}

bool same(const Moments& a, const Moments& b) { return a.n == b.n && a.mean == b.mean && a.m2 == b.m2; }

bool same(const ForwardPartial& a, const ForwardPartial& b) {
  return a.weight_sumsq == b.weight_sumsq && same(a.preact, b.preact) && same(a.act, b.act) && a.pairs == b.pairs &&
         a.units == b.units && a.saturated == b.saturated && a.inactive == b.inactive &&
         a.saturated_units == b.saturated_units && a.dead_units == b.dead_units && a.nonfinite == b.nonfinite &&
         a.slope_underflow == b.slope_underflow;
}

// One layer (B, n_in -> n): the three products and the forward statistics by group, against the
// same by block, bit for bit. The shapes are target 1's (batch 256, 1024 inputs), where Eigen
// cuts the inner dimension of every product into cache-sized panels.
template <class T>
void check_groups_match_blocks(Index B, Index n_in, Index n, const char* activation) {
  CAPTURE(B);
  CAPTURE(n_in);
  CAPTURE(n);
  const Activation& act = *find_activation(activation);
  const SaturationTest sat = saturation_test(act, 0, 0.1, std::nullopt);
  const Mat<T> a_prev = normal<T>(B, n_in, 1), d_h = normal<T>(B, n, 2);
  const RowMat<T> W = RowMat<T>(normal<T>(n, n_in, 3, 1.0 / std::sqrt(static_cast<double>(n_in))));
  const Vec<T> b = normal<T>(n, 1, 4, 0.1).col(0);
  const Index blocks = block_count(n);
  REQUIRE(group_count(n) < blocks);  // groups of several blocks, or the test tests nothing

  Mat<T> h_block(B, n), a_block(B, n), h_group(B, n), a_group(B, n);
  std::vector<ForwardPartial> by_block(static_cast<std::size_t>(blocks)), by_group(by_block.size());
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    by_block[static_cast<std::size_t>(blk)] =
        layer_forward_block<T>(act, 0, sat, a_prev, W.middleRows(c0, cols), b.segment(c0, cols),
                               h_block.middleCols(c0, cols), a_block.middleCols(c0, cols));
  }
  for_each_group(n, 2, [&](const BlockGroup& g) {
    layer_forward_group<T>(act, 0, sat, a_prev, W.middleRows(g.c0, g.cols), b.segment(g.c0, g.cols),
                           h_group.middleCols(g.c0, g.cols), a_group.middleCols(g.c0, g.cols),
                           std::span(by_group).subspan(static_cast<std::size_t>(g.first),
                                                       static_cast<std::size_t>(g.last - g.first)));
  });
  CHECK(same_bits<T>(h_block, h_group));  // phi'(h)
  CHECK(same_bits<T>(a_block, a_group));
  for (std::size_t k = 0; k < by_block.size(); ++k) {
    CAPTURE(k);
    CHECK(same(by_block[k], by_group[k]));
  }

  Mat<T> dWt_block(n_in, n), dWt_group(n_in, n), da_block(B, n_in), da_group(B, n_in);
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    weight_grad_block<T>(a_prev, d_h.middleCols(c0, cols), dWt_block.middleCols(c0, cols));
  }
  for (Index blk = 0; blk < block_count(n_in); ++blk) {
    const Index c0 = block_begin(blk), cols = block_size(blk, n_in);
    input_grad_block<T>(d_h, W.middleCols(c0, cols), T(0.5), da_block.middleCols(c0, cols));
  }
  for_each_group(n, 2, [&](const BlockGroup& g) {
    weight_grad_block<T>(a_prev, d_h.middleCols(g.c0, g.cols), dWt_group.middleCols(g.c0, g.cols));
  });
  for_each_group(n_in, 2, [&](const BlockGroup& g) {
    input_grad_block<T>(d_h, W.middleCols(g.c0, g.cols), T(0.5), da_group.middleCols(g.c0, g.cols));
  });
  CHECK(same_bits<T>(dWt_block, dWt_group));
  CHECK(same_bits<T>(da_block, da_group));
}

}  // namespace

TEST_CASE("groups of blocks cover the blocks in order, at block boundaries, by shape alone") {
  Index previous_cols = 0;
  for (Index n = 0; n <= 3000; ++n) {
    CAPTURE(n);
    Index next_block = 0, next_col = 0;
    for (Index g = 0; g < group_count(n); ++g) {
      const BlockGroup grp = block_group(g, n);
      CHECK(grp.first == next_block);
      CHECK(grp.c0 == next_col);
      CHECK(grp.c0 == block_begin(grp.first));
      CHECK(grp.last > grp.first);
      CHECK(grp.last - grp.first <= group_blocks(n));
      CHECK(grp.cols <= group_cols(n));
      next_block = grp.last;
      next_col = grp.c0 + grp.cols;
    }
    CHECK(next_block == block_count(n));
    CHECK(next_col == n);
    CHECK(group_cols(n) >= previous_cols);  // network.cc sizes its scratch by the widest layer
    previous_cols = group_cols(n);
  }
  CHECK(group_cols(128) == 64);  // one block per group up to 128 units
  CHECK(group_cols(256) == 128);  // two groups (one per core) of two blocks
  CHECK(group_count(256) == 2);
  CHECK(group_cols(1024) == 256);
  CHECK(group_count(1024) == 4);
  CHECK(group_cols(4096) == 256);
}

TEST_CASE("a group's products give each block the bits of the block's own products") {
  check_groups_match_blocks<float>(256, 1024, 1024, "tanh");
  check_groups_match_blocks<float>(256, 1024, 600, "relu");  // groups of 4 blocks, a partial block
  check_groups_match_blocks<float>(256, 256, 256, "sigmoid");  // target 1's depth-20 shape
  check_groups_match_blocks<float>(24, 70, 330, "sigmoid");  // small layers, Eigen's small panels
  check_groups_match_blocks<double>(64, 520, 520, "tanh");
}
