#pragma once
// The seeds of a run: one, a range or a list, as --seed of analyze and train takes them.
#include <cstdint>
#include <string>
#include <vector>

namespace gf {

// --seed of analyze and train: "7" -> {7}; "0:4" -> {0, 1, 2, 3, 4}; "0:30:10" -> {0, 10, 20, 30};
// "1,5,9" -> {1, 5, 9}. Throws UsageError naming --seed.
std::vector<std::uint64_t> parse_seeds(const std::string& text);
// The shortest form back: "0:31", "1,5,9", "3".
std::string seeds_text(const std::vector<std::uint64_t>& seeds);

}  // namespace gf
