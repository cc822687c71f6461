#pragma once
// FNV-1a, 64 bits (Fowler, Noll, Vo; offset basis 0xcbf29ce484222325, prime 0x100000001b3): the
// one hash gradflow uses, for a run's run_id (its resolved config's text) and for the content of
// a model or data file a baseline records. Not cryptographic: it tells a changed file from the
// same one, not a forged one.
#include <cstdint>
#include <string_view>

namespace gf {

struct Fnv1a64 {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV offset basis
  void add(std::string_view bytes) {
    for (const char ch : bytes) {
      h ^= static_cast<unsigned char>(ch);
      h *= 0x100000001b3ULL;  // FNV prime
    }
  }
};

inline std::uint64_t fnv1a64(std::string_view bytes) {
  Fnv1a64 f;
  f.add(bytes);
  return f.h;
}

}  // namespace gf
