// Compiled with -ffp-contract=off (no fused multiply-add may make one lane, or one build, round
// differently from another) and -fno-math-errno (so sqrt is one instruction, not a call that may
// set errno: that branch kept the loops below from vectorising; results are unchanged).
//
// Speed: every draw is made by the same block code, which works on kLanes counters at once in
// plain loops with no branches and nothing carried between lanes, so the compiler turns each
// loop into vector code (AVX-512, AVX2 or SSE2, whatever the build targets); on AVX2 alone the
// Philox rounds are written with intrinsics (philox_rounds, below). Only operations
// that IEEE arithmetic rounds exactly (+, -, *, sqrt, int <-> float, bit operations) appear, so
// vector lanes, scalar code and every instruction set give the same bits. tests/core/rng_test.cc
// checks fill_normal against a plain scalar transcription of rng.h's definition, bit for bit.
#include "core/rng.h"

#include <algorithm>
#include <bit>
#include <cmath>
#if defined(__AVX2__) && !defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "base/thread_team.h"

namespace gf {
namespace {

constexpr std::uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;  // Philox multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;  // Weyl key increments

// Counters per block. 64 (four AVX-512 registers per word) leaves the core independent vector
// chains to overlap; 16 ran 25% slower. The block size never changes a draw, only the speed.
constexpr int kLanes = 64;
constexpr int kDrawsPerBlock = 4 * kLanes;

// w[word][lane]: the block's draw 4 * lane + word.
struct alignas(64) Words {
  std::uint32_t w[4][kLanes];
};

inline std::uint32_t lo32(std::uint64_t x) { return static_cast<std::uint32_t>(x); }
inline std::uint32_t hi32(std::uint64_t x) { return static_cast<std::uint32_t>(x >> 32); }

// One Philox round on one counter.
inline void philox_round(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2, std::uint32_t& c3,
                         std::uint32_t k0, std::uint32_t k1) {
  const std::uint64_t p0 = std::uint64_t{kM0} * c0;
  const std::uint64_t p1 = std::uint64_t{kM1} * c2;
  const std::uint32_t n0 = hi32(p1) ^ c1 ^ k0;
  const std::uint32_t n2 = hi32(p0) ^ c3 ^ k1;
  c1 = lo32(p1);
  c3 = lo32(p0);
  c0 = n0;
  c2 = n2;
}

#if defined(__AVX2__) && !defined(__AVX512F__)
// AVX2 has no 32-bit high multiply, and GCC's vector code for the 32 x 32 -> 64-bit products of
// philox_round packs the products back into 32-bit lanes with three shuffles per register per
// product (one shuffle port), which made AVX2 builds draw at half the AVX-512 rate. By hand: the
// even lanes' products and the odd lanes' (shifted down) with vpmuludq, halves put back in place
// with blends. Integer arithmetic, so the bits are those of philox_round on every path.
inline __m256i mul_hi_lo(__m256i a, __m256i m, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Eight counters per register, the ten rounds of one register after another. (Two or four
// registers through the rounds together measured the same: the loop is bound by throughput.)
void philox_rounds(Words& w, std::uint32_t k0, std::uint32_t k1) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kM0)), m1 = _mm256_set1_epi32(static_cast<int>(kM1));
  for (int l = 0; l < kLanes; l += 8) {
    auto at = [&](int word) { return reinterpret_cast<__m256i*>(&w.w[word][l]); };
    __m256i c0 = _mm256_load_si256(at(0)), c1 = _mm256_load_si256(at(1));
    __m256i c2 = _mm256_load_si256(at(2)), c3 = _mm256_load_si256(at(3));
    std::uint32_t r0 = k0, r1 = k1;
    for (int round = 0; round < 10; ++round) {
      __m256i lo0, lo1;
      const __m256i hi0 = mul_hi_lo(c0, m0, lo0), hi1 = mul_hi_lo(c2, m1, lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(r0)));
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(r1)));
      c1 = lo1;
      c3 = lo0;
      r0 += kW0;
      r1 += kW1;
    }
    _mm256_store_si256(at(0), c0);
    _mm256_store_si256(at(1), c1);
    _mm256_store_si256(at(2), c2);
    _mm256_store_si256(at(3), c3);
  }
}
#else
// Plain loops, which GCC turns into good vector code for AVX-512 (and SSE2).
void philox_rounds(Words& w, std::uint32_t k0, std::uint32_t k1) {
  std::uint32_t* c0 = w.w[0];
  std::uint32_t* c1 = w.w[1];
  std::uint32_t* c2 = w.w[2];
  std::uint32_t* c3 = w.w[3];
  for (int round = 0; round < 10; ++round) {
    for (int l = 0; l < kLanes; ++l) philox_round(c0[l], c1[l], c2[l], c3[l], k0, k1);
    k0 += kW0;
    k1 += kW1;
  }
}
#endif

// Philox4x32-10 on the kLanes counters from first_counter, in place in `out`.
void philox_block(std::uint64_t first_counter, const RandomStream& s, Words& out) {
  for (int l = 0; l < kLanes; ++l) {
    const std::uint64_t c = first_counter + static_cast<std::uint64_t>(l);
    out.w[0][l] = lo32(c);
    out.w[1][l] = hi32(c);
    out.w[2][l] = s.layer;
    out.w[3][l] = static_cast<std::uint32_t>(s.stream);
  }
  philox_rounds(out, lo32(s.seed), hi32(s.seed));
}

inline float unit_open0(std::uint32_t w) {  // (0, 1]
  return static_cast<float>(static_cast<std::int32_t>((w >> 8) + 1)) * 0x1p-24f;
}
inline float unit_closed0(std::uint32_t w) {  // [0, 1)
  return static_cast<float>(static_cast<std::int32_t>(w >> 8)) * 0x1p-24f;
}

// Branch-free choice between two floats, by bit masks: keeps every loop one straight vector
// path on every instruction set (SSE2 and AVX2 have no masked float moves the compiler uses).
inline float select(bool c, float a, float b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & mask) |
                              (std::bit_cast<std::uint32_t>(b) & ~mask));
}
inline float negate_if(bool c, float x) {
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) ^ (static_cast<std::uint32_t>(c) << 31));
}

// Natural log for x in (0, 1] (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)).
inline float log_unit(float x) {
  const std::int32_t bits = std::bit_cast<std::int32_t>(x);
  const float m0 = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool low = m0 < 0.707106781186547524f;
  const float e = static_cast<float>((bits >> 23) - 126 - static_cast<std::int32_t>(low));
  const float m = select(low, m0 + m0, m0) - 1.0f;
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
  // Quarter k: (cos, sin) = (cx, sx), (-sx, cx), (-cx, -sx), (sx, -cx).
  const std::int32_t k = q & 3;
  const bool odd = (k & 1) != 0;
  c = negate_if(((k + 1) & 2) != 0, select(odd, sx, cx));
  s = negate_if((k & 2) != 0, select(odd, cx, sx));
}

// Lays the four words' values out in draw order: z[4 * lane + word] = v[word][lane].
inline void interleave(const float (&v)[4][kLanes], float* z) {
  for (int l = 0; l < kLanes; ++l) {
    z[4 * l + 0] = v[0][l];
    z[4 * l + 1] = v[1][l];
    z[4 * l + 2] = v[2][l];
    z[4 * l + 3] = v[3][l];
  }
}

// The block's normal draws, in draw order: Box-Muller on words (0, 1) and on words (2, 3).
void normal_block(const Words& in, float* z) {
  alignas(64) float v[4][kLanes];
  for (int pair = 0; pair < 2; ++pair) {
    const std::uint32_t* w1 = in.w[2 * pair];
    const std::uint32_t* w2 = in.w[2 * pair + 1];
    for (int l = 0; l < kLanes; ++l) {
      const float r = std::sqrt(-2.0f * log_unit(unit_open0(w1[l])));
      float c, s;
      sincos_turns(unit_closed0(w2[l]), c, s);
      v[2 * pair][l] = r * c;
      v[2 * pair + 1][l] = r * s;
    }
  }
  interleave(v, z);
}

// The block's uniform draws in [0, 1), in draw order.
void uniform_block(const Words& in, float* z) {
  alignas(64) float v[4][kLanes];
  for (int w = 0; w < 4; ++w)
    for (int l = 0; l < kLanes; ++l) v[w][l] = unit_closed0(in.w[w][l]);
  interleave(v, z);
}

// Calls block(counter, from, count, at) for every block of draws overlapping [first, first + n):
// draws from .. from + count - 1 of the block whose first counter is `counter` go to out[at ..].
// Each draw is produced by the same full-block code, wherever the request starts or ends.
template <class Block>
void for_each_draw_block(std::uint64_t first, std::size_t n, Block&& block) {
  std::uint64_t i = first;
  const std::uint64_t end = first + n;
  while (i < end) {
    const std::uint64_t block_start = i - i % kDrawsPerBlock;
    const auto from = static_cast<std::size_t>(i - block_start);
    const auto count =
        static_cast<std::size_t>(std::min<std::uint64_t>(end, block_start + kDrawsPerBlock) - i);
    block(block_start / 4, from, count, static_cast<std::size_t>(i - first));
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
  alignas(64) float z[kDrawsPerBlock];
  for_each_draw_block(first, n, [&](std::uint64_t counter, std::size_t from, std::size_t count,
                                    std::size_t at) {
    philox_block(counter, s, words);
    normal_block(words, z);
    for (std::size_t k = 0; k < count; ++k) out[at + k] = static_cast<T>(z[from + k]) * scale;
  });
}

template <class T>
void fill_uniform(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T lo, T hi) {
  Words words;
  alignas(64) float z[kDrawsPerBlock];
  const T width = hi - lo;
  for_each_draw_block(first, n, [&](std::uint64_t counter, std::size_t from, std::size_t count,
                                    std::size_t at) {
    philox_block(counter, s, words);
    uniform_block(words, z);
    for (std::size_t k = 0; k < count; ++k) out[at + k] = lo + width * static_cast<T>(z[from + k]);
  });
}

void fill_bits(const RandomStream& s, std::uint64_t first, std::uint32_t* out, std::size_t n) {
  Words words;
  for_each_draw_block(first, n, [&](std::uint64_t counter, std::size_t from, std::size_t count,
                                    std::size_t at) {
    philox_block(counter, s, words);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t d = from + k;
      out[at + k] = words.w[d % 4][d / 4];
    }
  });
}

template <class T>
void fill_normal_parallel(const RandomStream& s, std::uint64_t first, T* out, std::size_t n, T scale,
                          int threads) {
  // Any split gives the same draws (each is a function of its index); chunks of whole blocks
  // just keep every block computed once.
  constexpr std::size_t kChunk = 64 * kDrawsPerBlock;
  const auto chunks = static_cast<std::int64_t>((n + kChunk - 1) / kChunk);
  if (threads <= 1 || chunks <= 1) return fill_normal<T>(s, first, out, n, scale);
  // Chunk c covers draws [first + c * kChunk, ...), so only the first and last may be partial
  // blocks, as in a single call.
  parallel_for(chunks, threads, [&](std::ptrdiff_t c) {
    const std::size_t at = static_cast<std::size_t>(c) * kChunk;
    fill_normal<T>(s, first + at, out + at, std::min(kChunk, n - at), scale);
  });
}

template void fill_normal<float>(const RandomStream&, std::uint64_t, float*, std::size_t, float);
template void fill_normal<double>(const RandomStream&, std::uint64_t, double*, std::size_t, double);
template void fill_normal_parallel<float>(const RandomStream&, std::uint64_t, float*, std::size_t,
                                          float, int);
template void fill_normal_parallel<double>(const RandomStream&, std::uint64_t, double*, std::size_t,
                                           double, int);
template void fill_uniform<float>(const RandomStream&, std::uint64_t, float*, std::size_t, float, float);
template void fill_uniform<double>(const RandomStream&, std::uint64_t, double*, std::size_t, double,
                                   double);

}  // namespace gf
