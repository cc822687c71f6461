#pragma once
// Random numbers that are the same on every machine, thread count and standard library.
//
// Generator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011), the counter-based generator of Random123, checked against its published
// known-answer vectors. Draw number i of a stream is word i % 4 of
//   philox(counter = {lo32(i / 4), hi32(i / 4), layer, stream}, key = {lo32(seed), hi32(seed)}),
// so any layer's weights (or any slice of them) can be regenerated on their own, in any order.
//
// Sampling (all in f32, also for --dtype f64, so both dtypes see exactly the same draws):
//   uniform  u = (w >> 8) * 2^-24                       in [0, 1), 24 random bits
//   normal   Box-Muller on words (w0, w1) and (w2, w3): with u1 = ((w0 >> 8) + 1) * 2^-24 in (0, 1]
//            and u2 = (w1 >> 8) * 2^-24, z0 = r cos(2 pi u2), z1 = r sin(2 pi u2), r = sqrt(-2 ln u1).
//            ln, sin and cos are our own polynomials (Cephes), not libm's, so the result is fixed
//            by this file; |z| <= 5.77 (the 2^-24 resolution of u1).
//            rng.cc computes this in vector code; tests/core/rng_test.cc holds the scalar reference.
//   integer  k = (w * n) >> 32                           in [0, n)
#include <array>
#include <cstddef>
#include <cstdint>

namespace gf {

using PhiloxCounter = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key);

// What a sequence of draws is for. Values are part of the output's definition: never renumber.
enum class Stream : std::uint32_t {
  weights = 1,
  biases = 2,
  input = 3,
  labels = 4,
  targets = 5,     // mse targets
  head = 6,        // the linear head's weights
  direction = 7,   // --loss random: the direction backpropagated from the head
  jacobian_probes = 8,  // --jacobian-probes: the random directions J is applied to (layer = the sample)
  // gradflow train (from the old Stream::user = 100 up). `layer` picks a sub-stream:
  data = 100,         // built-in datasets (see dataset_builtin.cc for the layer of each draw)
  data_split = 101,   // the CSV train/test split: one permutation, keyed by --data-seed
  batch_order = 102,  // mini-batch order: one permutation of the training set per epoch (layer)
  user = 103,         // first number free for later uses (tests draw their data from it)
  dropout = 104,      // --dropout masks (core/dropout.cc): layer = the layer's slot
  bench = 199         // `gradflow bench`: the arrays it times (no printed number depends on them)
};

struct RandomStream {
  std::uint64_t seed = 0;
  Stream stream = Stream::weights;
  std::uint32_t layer = 0;
};

// out[k] = scale * (draw first + k), for k < n.
template <class T>
void fill_normal(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T scale = 1);
// The same numbers as fill_normal, drawn by up to `threads` threads (for large fills: the
// draws do not depend on how the range is split).
template <class T>
void fill_normal_parallel(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T scale,
                          int threads);
// out[k] = lo + (hi - lo) * u(first + k).
template <class T>
void fill_uniform(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T lo, T hi);
// out[k] = the raw 32-bit word of draw first + k.
void fill_bits(const RandomStream& s, std::uint64_t first, std::uint32_t* out, std::size_t n);

inline std::uint32_t uniform_int(std::uint32_t bits, std::uint32_t n) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(bits) * n) >> 32);
}

}  // namespace gf
