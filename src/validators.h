#pragma once
// CLI11 validators whose messages name the value and what is allowed. CLI11 prefixes the
// option's name, so an error reads "--depth: '0' is not allowed: give a whole number from 1 to
// 100000".
#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "enum_names.h"
#include "real_text.h"
#include "suggest.h"

namespace gf {

// `listed`: show the choices next to the option in --help (off when the help text lists them).
CLI::Validator one_of(std::vector<std::string> names, bool listed = true);
CLI::Validator whole_number(long long lo, long long hi);
// A real number in the interval; open ends exclude the bound. A fraction such as 25/9 or 5/3 is
// taken too, and handed on as its value: apply with ->transform(), not ->check().
CLI::Validator real_number(double lo, double hi, bool open_lo = false, bool open_hi = false);

// "8GiB", "512M", "1.5G" or plain bytes (K, M, G, T are powers of 1024) -> bytes.
CLI::Validator byte_size();
std::uint64_t parse_byte_size(std::string_view text);  // throws std::invalid_argument

// A name from an enum's table (enum_names.h): checked, then turned into the enum's number for
// CLI11 to store.
template <class E>
CLI::Validator enum_choice(std::span<const EnumName<E>> table) {
  std::vector<std::string> names;
  for (const EnumName<E>& e : table) names.emplace_back(e.name);
  const std::string desc = "{" + join(names, ",") + "}";
  return CLI::Validator(
      [table, names](std::string& value) -> std::string {
        for (const EnumName<E>& e : table)
          if (e.name == value) {
            value = std::to_string(static_cast<long long>(e.value));
            return "";
          }
        return "unknown value '" + value + "'" + did_you_mean(value, names) + "; allowed: " +
               join(names);
      },
      desc);
}

}  // namespace gf
