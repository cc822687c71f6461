#pragma once
// Random permutations from the counter-based generator (Fisher-Yates with rng.h's integers):
// the CSV split and the mini-batch order, the same on every machine and thread count.
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace gf {

// A permutation of 0..n-1, a pure function of the stream.
std::vector<std::uint32_t> random_permutation(const RandomStream& s, std::uint32_t n);

}  // namespace gf

namespace gf {

// The mini-batch order of training: the samples of epoch e in the order of a permutation keyed
// by (seed, Stream::batch_order, e); batches are consecutive slices of that sequence, and a
// batch may straddle two epochs. Every activation trained with the same seed sees it.
class BatchOrder {
 public:
  BatchOrder(std::uint64_t seed, std::uint32_t n, std::uint32_t batch);
  const std::uint32_t* next();  // the training-set rows of the next mini-batch

 private:
  std::uint64_t seed_;
  std::uint32_t n_, batch_;
  std::uint64_t position_ = 0;
  std::uint64_t epoch_ = ~std::uint64_t{0};
  std::vector<std::uint32_t> perm_, rows_;
};

}  // namespace gf
