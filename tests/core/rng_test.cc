#include "core/rng.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

using namespace gf;

TEST_CASE("philox4x32-10 matches Random123's known-answer vectors") {
  // Random123 kat_vectors: counter, key -> output.
  CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) ==
        PhiloxCounter{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        PhiloxCounter{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        PhiloxCounter{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("draw i of a stream is word i%4 of philox(counter i/4, layer, stream; seed)") {
  const RandomStream s{0x123456789abcdefULL, Stream::weights, 7};
  std::vector<std::uint32_t> bits(1000);
  fill_bits(s, 12345, bits.data(), bits.size());
  for (std::uint64_t i = 12345; i < 12345 + 1000; i += 37) {
    const PhiloxCounter out = philox4x32_10(
        {static_cast<std::uint32_t>(i / 4), static_cast<std::uint32_t>((i / 4) >> 32), 7,
         static_cast<std::uint32_t>(Stream::weights)},
        {static_cast<std::uint32_t>(s.seed), static_cast<std::uint32_t>(s.seed >> 32)});
    CHECK(bits[i - 12345] == out[i % 4]);
  }
}

TEST_CASE("a draw does not depend on where the request starts or ends") {
  const RandomStream s{42, Stream::input, 3};
  std::vector<float> whole(1000);
  fill_normal<float>(s, 0, whole.data(), whole.size());
  for (std::uint64_t first : {0, 1, 5, 63, 64, 65, 500}) {
    for (std::size_t n : {1, 3, 64, 129, 400}) {
      std::vector<float> part(n);
      fill_normal<float>(s, first, part.data(), n);
      for (std::size_t k = 0; k < n; ++k) REQUIRE(part[k] == whole[first + k]);
    }
  }
}

TEST_CASE("f32 and f64 see the same draws, rounded once") {
  const RandomStream s{7, Stream::weights, 1};
  std::vector<float> f(300);
  std::vector<double> d(300);
  fill_normal<float>(s, 0, f.data(), f.size());
  fill_normal<double>(s, 0, d.data(), d.size());
  for (std::size_t i = 0; i < f.size(); ++i) CHECK(static_cast<double>(f[i]) == d[i]);
}

TEST_CASE("normal draws have the moments of N(0,1)") {
  const std::size_t n = 1 << 21;
  std::vector<float> z(n);
  fill_normal<float>({1, Stream::weights, 1}, 0, z.data(), n);
  double m1 = 0, m2 = 0, m4 = 0, tail = 0;
  for (float v : z) {
    m1 += v;
    m2 += double(v) * v;
    m4 += double(v) * v * v * v;
    tail += std::abs(v) > 3.0f;
  }
  m1 /= n;
  m2 /= n;
  m4 /= n;
  // Standard errors: mean 1/sqrt(n) = 7e-4, variance sqrt(2/n) = 1e-3, kurtosis sqrt(96/n) = 7e-3.
  CHECK(std::abs(m1) < 4e-3);
  CHECK(std::abs(m2 - 1) < 5e-3);
  CHECK(std::abs(m4 - 3) < 4e-2);
  CHECK(std::abs(tail / n - 0.0026998) < 3e-4);  // P(|z| > 3)
}

TEST_CASE("uniform draws cover [lo, hi) evenly, integers [0, n) too") {
  const std::size_t n = 1 << 20;
  std::vector<double> u(n);
  fill_uniform<double>({3, Stream::input, 0}, 0, u.data(), n, -1.0, 1.0);
  double mean = 0, var = 0;
  for (double v : u) {
    REQUIRE(v >= -1.0);
    REQUIRE(v < 1.0);
    mean += v;
    var += v * v;
  }
  CHECK(std::abs(mean / n) < 3e-3);
  CHECK(std::abs(var / n - 1.0 / 3) < 3e-3);
  std::vector<int> counts(10);
  std::vector<std::uint32_t> bits(100000);
  fill_bits({3, Stream::labels, 0}, 0, bits.data(), bits.size());
  for (std::uint32_t b : bits) ++counts[uniform_int(b, 10)];
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);
}

TEST_CASE("streams, layers and seeds are independent sequences") {
  std::vector<float> a(64), b(64), c(64), d(64);
  fill_normal<float>({0, Stream::weights, 1}, 0, a.data(), 64);
  fill_normal<float>({0, Stream::weights, 2}, 0, b.data(), 64);
  fill_normal<float>({0, Stream::biases, 1}, 0, c.data(), 64);
  fill_normal<float>({1, Stream::weights, 1}, 0, d.data(), 64);
  CHECK(a != b);
  CHECK(a != c);
  CHECK(a != d);
}

// A plain scalar transcription of rng.h's definition, with branches where rng.cc has bit
// selects, one draw at a time. Compiled with -ffp-contract=off like rng.cc (CMakeLists.txt).
namespace {

float ref_log(float x) {  // Cephes logf, for x in (0, 1]
  int exponent;
  float m = std::frexp(x, &exponent);  // x = m 2^exponent, m in [0.5, 1)
  float e = static_cast<float>(exponent);
  if (m < 0.707106781186547524f) {
    e -= 1.0f;
    m = m + m - 1.0f;
  } else {
    m = m - 1.0f;
  }
  const float z = m * m;
  float y = 7.0376836292e-2f;
  for (float c : {-1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f,
                  -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f})
    y = y * m + c;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

void ref_sincos_turns(float u, float& c, float& s) {  // cos and sin of 2 pi u
  const float t = 4.0f * u;
  const int q = static_cast<int>(t + 0.5f);
  const float x = (t - static_cast<float>(q)) * 1.57079632679489662f;
  const float z = x * x;
  const float sx = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
  const float cx =
      ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
      0.5f * z + 1.0f;
  switch (q % 4) {
    case 0: c = cx, s = sx; break;
    case 1: c = -sx, s = cx; break;
    case 2: c = -cx, s = -sx; break;
    default: c = sx, s = -cx; break;
  }
}

PhiloxCounter ref_words(const RandomStream& s, std::uint64_t counter) {
  return philox4x32_10({static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32),
                        s.layer, static_cast<std::uint32_t>(s.stream)},
                       {static_cast<std::uint32_t>(s.seed), static_cast<std::uint32_t>(s.seed >> 32)});
}

float ref_normal(const RandomStream& s, std::uint64_t i) {
  const PhiloxCounter w = ref_words(s, i / 4);
  const std::size_t pair = (i % 4) / 2;
  const float u1 = static_cast<float>((w[2 * pair] >> 8) + 1) * 0x1p-24f;
  const float u2 = static_cast<float>(w[2 * pair + 1] >> 8) * 0x1p-24f;
  const float r = std::sqrt(-2.0f * ref_log(u1));
  float c, sn;
  ref_sincos_turns(u2, c, sn);
  return i % 2 == 0 ? r * c : r * sn;
}

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

}  // namespace

TEST_CASE("the vectorised generator matches the scalar reference bit for bit") {
  for (const RandomStream s : {RandomStream{0, Stream::weights, 1},
                               RandomStream{0xfedcba9876543210ULL, Stream::input, 0xffffffffu},
                               RandomStream{12345, Stream::user, 17}}) {
    const std::uint64_t first = s.seed == 0 ? 0 : (std::uint64_t{1} << 34) + 3;  // counters past 2^32
    const std::size_t n = 1 << 18;
    std::vector<float> z(n);
    fill_normal<float>(s, first, z.data(), n);
    std::size_t mismatches = 0, first_bad = n;
    for (std::size_t k = 0; k < n; ++k) {
      if (bits_of(z[k]) != bits_of(ref_normal(s, first + k))) {
        ++mismatches;
        first_bad = std::min(first_bad, k);
      }
    }
    INFO("first mismatch at draw ", first + first_bad);
    CHECK(mismatches == 0);

    std::vector<float> u(4099);
    fill_uniform<float>(s, first + 5, u.data(), u.size(), -2.0f, 3.0f);
    for (std::size_t k = 0; k < u.size(); ++k) {
      const std::uint64_t i = first + 5 + k;
      const float unit = static_cast<float>(ref_words(s, i / 4)[i % 4] >> 8) * 0x1p-24f;
      REQUIRE(bits_of(u[k]) == bits_of(-2.0f + 5.0f * unit));
    }
  }
}

TEST_CASE("the scalar reference computes ln, cos and sin, and the largest |z|") {
  // u1 = 2^-24, the smallest, gives r = sqrt(48 ln 2) = 5.76811; u1 = 1 gives r = 0.
  CHECK(std::sqrt(-2.0f * ref_log(0x1p-24f)) == doctest::Approx(std::sqrt(48 * std::log(2.0))).epsilon(1e-6));
  CHECK(ref_log(1.0f) == 0.0f);
  for (float x : {0x1p-24f, 0.1f, 0.5f, 0.70710677f, 0.70710678f, 0.9f, 0.999999f})
    CHECK(ref_log(x) == doctest::Approx(std::log(x)).epsilon(2e-7));
  for (float u : {0.0f, 0.1f, 0.125f, 0.25f, 0.4f, 0.5f, 0.6f, 0.75f, 0.9f, 0.99999994f}) {
    float c, s;
    ref_sincos_turns(u, c, s);
    CHECK(c == doctest::Approx(std::cos(2 * M_PI * u)).epsilon(1e-6));
    CHECK(s == doctest::Approx(std::sin(2 * M_PI * u)).epsilon(1e-6));
  }
}

TEST_CASE("a parallel fill gives the same draws for any thread count") {
  const RandomStream s{9, Stream::weights, 4};
  const std::size_t n = 200000 + 77;  // several chunks and a partial one
  std::vector<float> one(n), two(n), three(n);
  fill_normal<float>(s, 11, one.data(), n);
  fill_normal_parallel<float>(s, 11, two.data(), n, 1.0f, 2);
  fill_normal_parallel<float>(s, 11, three.data(), n, 1.0f, 3);
  CHECK(one == two);
  CHECK(one == three);
}
