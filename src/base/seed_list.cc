#include "base/seed_list.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string_view>

#include "base/errors.h"

namespace gf {

namespace {

std::uint64_t parse_seed(std::string_view s, const std::string& whole) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    throw UsageError(fmt::format("--seed: '{}' is not allowed: give a whole number N, a range A:B "
                                 "(A <= B, both included) or a list N,M,...",
                                 whole));
  return v;
}

}  // namespace

std::vector<std::uint64_t> parse_seeds(const std::string& text) {
  std::vector<std::uint64_t> seeds;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = std::string_view(text).substr(start, comma - start);
    if (const std::size_t colon = item.find(':'); colon != item.npos) {
      const std::size_t colon2 = item.find(':', colon + 1);
      const std::uint64_t a = parse_seed(item.substr(0, colon), text);
      const std::uint64_t b = parse_seed(item.substr(colon + 1, colon2 == item.npos ? item.npos : colon2 - colon - 1), text);
      const std::uint64_t step = colon2 == item.npos ? 1 : parse_seed(item.substr(colon2 + 1), text);
      if (a > b) throw UsageError(fmt::format("--seed: '{}': the range {}:{} is empty; give A <= B", text, a, b));
      if (step == 0) throw UsageError(fmt::format("--seed: '{}': the step of {} is 0; give a positive step", text, item));
      if ((b - a) / step >= 10000)
        throw UsageError(fmt::format("--seed: '{}': {} seeds is too many; give at most 10000", text, (b - a) / step + 1));
      for (std::uint64_t s = a;; s += step) {
        seeds.push_back(s);
        if (b - s < step) break;  // the next would pass b (or wrap)
      }
    } else {
      seeds.push_back(parse_seed(item, text));
    }
    start = comma + 1;
  }
  std::vector<std::uint64_t> sorted = seeds;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw UsageError(fmt::format("--seed: '{}': a seed appears twice; each seed runs once", text));
  return seeds;
}

std::string seeds_text(const std::vector<std::uint64_t>& seeds) {
  bool consecutive = seeds.size() > 2;
  for (std::size_t i = 1; i < seeds.size(); ++i) consecutive = consecutive && seeds[i] == seeds[i - 1] + 1;
  if (consecutive) return fmt::format("{}:{}", seeds.front(), seeds.back());
  return fmt::format("{}", fmt::join(seeds, ","));
}

}  // namespace gf
