#include "train/shuffle.h"

#include <numeric>
#include <utility>

namespace gf {

std::vector<std::uint32_t> random_permutation(const RandomStream& s, std::uint32_t n) {
  std::vector<std::uint32_t> perm(n), bits(n);
  std::iota(perm.begin(), perm.end(), 0u);
  fill_bits(s, 0, bits.data(), n);
  for (std::uint32_t i = n; i-- > 1;) std::swap(perm[i], perm[uniform_int(bits[i], i + 1)]);
  return perm;
}

}  // namespace gf

namespace gf {

BatchOrder::BatchOrder(std::uint64_t seed, std::uint32_t n, std::uint32_t batch)
    : seed_(seed), n_(n), batch_(batch), rows_(batch) {}

const std::uint32_t* BatchOrder::next() {
  for (std::uint32_t i = 0; i < batch_; ++i, ++position_) {
    const std::uint64_t epoch = position_ / n_;
    if (epoch != epoch_) {
      perm_ = random_permutation({seed_, Stream::batch_order, static_cast<std::uint32_t>(epoch)}, n_);
      epoch_ = epoch;
    }
    rows_[i] = perm_[position_ % n_];
  }
  return rows_.data();
}

}  // namespace gf
