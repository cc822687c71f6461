#pragma once
// "did you mean 'tanh'?" for mistyped names, by edit distance.
#include <string>
#include <string_view>
#include <vector>

namespace gf {

std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if it is close enough to be a likely typo; "" otherwise.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace gf
