#pragma once
// FNV-1a 64, written out here rather than taken from base/fnv1a.h: the tests' independent
// reference for the hashes gradflow records.
#include <cstdint>
#include <string>

inline std::uint64_t independent_fnv(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char ch : bytes) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
  return h;
}
