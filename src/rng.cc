// Compiled with -ffp-contract=off: every value comes from the same block transform below,
// and no fused multiply-add may make one lane round differently from another.
#include "rng.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gf {
namespace {

constexpr std::uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;  // Philox multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;  // Weyl key increments

// Counters per block: the transform loops below run over this many lanes at once.
constexpr int kLanes = 16;
constexpr int kDrawsPerBlock = 4 * kLanes;

// One Philox round on one counter.
inline void philox_round(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2, std::uint32_t& c3,
                         std::uint32_t k0, std::uint32_t k1) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c0;
  const std::uint64_t p1 = static_cast<std::uint64_t>(kM1) * c2;
  const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
  const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
  c1 = static_cast<std::uint32_t>(p1);
  c3 = static_cast<std::uint32_t>(p0);
  c0 = n0;
  c2 = n2;
}

struct Words {
  std::uint32_t w[4][kLanes];  // w[word][lane]: draw index 4 * lane + word within the block
};

void philox_block(std::uint64_t first_counter, const RandomStream& s, Words& out) {
  std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const std::uint64_t c = first_counter + static_cast<std::uint64_t>(l);
    c0[l] = static_cast<std::uint32_t>(c);
    c1[l] = static_cast<std::uint32_t>(c >> 32);
    c2[l] = s.layer;
    c3[l] = static_cast<std::uint32_t>(s.stream);
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(s.seed), k1 = static_cast<std::uint32_t>(s.seed >> 32);
  for (int round = 0; round < 10; ++round) {
    for (int l = 0; l < kLanes; ++l) philox_round(c0[l], c1[l], c2[l], c3[l], k0, k1);
    k0 += kW0;
    k1 += kW1;
  }
  std::copy(c0, c0 + kLanes, out.w[0]);
  std::copy(c1, c1 + kLanes, out.w[1]);
  std::copy(c2, c2 + kLanes, out.w[2]);
  std::copy(c3, c3 + kLanes, out.w[3]);
}

inline float unit_open0(std::uint32_t w) {  // (0, 1]
  return static_cast<float>(static_cast<std::int32_t>((w >> 8) + 1)) * 0x1p-24f;
}
inline float unit_closed0(std::uint32_t w) {  // [0, 1)
  return static_cast<float>(static_cast<std::int32_t>(w >> 8)) * 0x1p-24f;
}

// Natural log for x in (0, 1] (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)).
inline float log_unit(float x) {
  const std::int32_t bits = std::bit_cast<std::int32_t>(x);
  float e = static_cast<float>((bits >> 23) - 126);
  float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

// cos and sin of 2 pi u for u in [0, 1): reduce by quarter turns, which is exact in turns.
inline void sincos_turns(float u, float& c, float& s) {
  const float t = 4.0f * u;
  const std::int32_t q = static_cast<std::int32_t>(t + 0.5f);  // nearest quarter, 0..4
  const float x = (t - static_cast<float>(q)) * 1.57079632679489662f;  // [-pi/4, pi/4]
  const float z = x * x;
  const float sx = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
  const float cx =
      ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
      0.5f * z + 1.0f;
  const std::int32_t k = q & 3;
  c = k == 0 ? cx : k == 1 ? -sx : k == 2 ? -cx : sx;
  s = k == 0 ? sx : k == 1 ? cx : k == 2 ? -sx : -cx;
}

void normal_block(const Words& in, float (&z)[kDrawsPerBlock]) {
  float v[4][kLanes];
  for (int pair = 0; pair < 2; ++pair) {
    for (int l = 0; l < kLanes; ++l) {
      const float u1 = unit_open0(in.w[2 * pair][l]);
      const float u2 = unit_closed0(in.w[2 * pair + 1][l]);
      const float r = std::sqrt(-2.0f * log_unit(u1));
      float c, s;
      sincos_turns(u2, c, s);
      v[2 * pair][l] = r * c;
      v[2 * pair + 1][l] = r * s;
    }
  }
  for (int l = 0; l < kLanes; ++l)
    for (int w = 0; w < 4; ++w) z[4 * l + w] = v[w][l];
}

// Calls emit(block_values, offset_in_block, count, out_offset) for every block overlapping
// [first, first + n): each draw is produced by the same full-block code, wherever it falls.
template <class MakeBlock, class Emit>
void for_each_draw_block(std::uint64_t first, std::size_t n, MakeBlock&& make, Emit&& emit) {
  std::uint64_t i = first;
  const std::uint64_t end = first + n;
  while (i < end) {
    const std::uint64_t block_start = i - i % kDrawsPerBlock;
    make(block_start / 4);
    const std::size_t from = static_cast<std::size_t>(i - block_start);
    const std::size_t count = static_cast<std::size_t>(
        std::min<std::uint64_t>(end, block_start + kDrawsPerBlock) - i);
    emit(from, count, static_cast<std::size_t>(i - first));
    i += count;
  }
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  auto [c0, c1, c2, c3] = counter;
  auto [k0, k1] = key;
  for (int round = 0; round < 10; ++round) {
    philox_round(c0, c1, c2, c3, k0, k1);
    k0 += kW0;
    k1 += kW1;
  }
  return {c0, c1, c2, c3};
}

template <class T>
void fill_normal(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T scale) {
  Words words;
  float z[kDrawsPerBlock];
  for_each_draw_block(
      first, n,
      [&](std::uint64_t counter) {
        philox_block(counter, s, words);
        normal_block(words, z);
      },
      [&](std::size_t from, std::size_t count, std::size_t at) {
        for (std::size_t k = 0; k < count; ++k) out[at + k] = static_cast<T>(z[from + k]) * scale;
      });
}

template <class T>
void fill_uniform(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T lo, T hi) {
  Words words;
  for_each_draw_block(
      first, n, [&](std::uint64_t counter) { philox_block(counter, s, words); },
      [&](std::size_t from, std::size_t count, std::size_t at) {
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t d = from + k;
          const float u = unit_closed0(words.w[d % 4][d / 4]);
          out[at + k] = lo + (hi - lo) * static_cast<T>(u);
        }
      });
}

void fill_bits(const RandomStream& s, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  Words words;
  for_each_draw_block(
      first, n, [&](std::uint64_t counter) { philox_block(counter, s, words); },
      [&](std::size_t from, std::size_t count, std::size_t at) {
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t d = from + k;
          out[at + k] = words.w[d % 4][d / 4];
        }
      });
}

template void fill_normal<float>(const RandomStream&, std::uint64_t, float*, std::size_t, float);
template void fill_normal<double>(const RandomStream&, std::uint64_t, double*, std::size_t, double);
template void fill_uniform<float>(const RandomStream&, std::uint64_t, float*, std::size_t, float, float);
template void fill_uniform<double>(const RandomStream&, std::uint64_t, double*, std::size_t, double,
                                   double);

}  // namespace gf
