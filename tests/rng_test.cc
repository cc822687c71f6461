#include "rng.h"

#include <doctest/doctest.h>

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
