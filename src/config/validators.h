#pragma once
// CLI11 validators whose messages name the value and what is allowed. CLI11 prefixes the
// option's name, so an error reads "--depth: '0' is not allowed: give a whole number from 1 to
// 100000".
#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/real_text.h"
#include "base/suggest.h"
#include "core/enum_names.h"

namespace gf {

// one_of and enum_choice name their validator kChoicesTag + "a,b,c", so that the man page and the
// shell completions (cli_docs.h) list the same choices without a second list.
inline constexpr std::string_view kChoicesTag = "choices:";

// Lists: one rule for every list-valued flag and config key. A list is one comma-separated value,
// given once ("-a relu,tanh"; in a config file a JSON array, read as its elements joined by
// commas). An empty element ("relu,,tanh", "relu,", ",relu", "") is refused, and so is the flag
// given twice (CLI11's Throw policy on a one-value option): nothing is merged, dropped or
// shortened without a word. Repeatable options (--rule, --where) are not lists: each occurrence
// is one item, and an item may not set the same thing twice.

// The elements of a list; throws UsageError naming `flag` on an empty element.
std::vector<std::string> split_list(std::string_view flag, std::string_view text);
// Checks a list's text: no empty element, and every element passes `each`.
CLI::Validator list_of(CLI::Validator each = CLI::Validator());

// A list option storing its elements in `into` (strings, or whole numbers checked by `each`).
template <class T>
CLI::Option* add_list_option(CLI::App& cmd, const std::string& flags, std::vector<T>& into, const std::string& help,
                             CLI::Validator each = CLI::Validator()) {
  CLI::Option* opt = cmd.add_option_function<std::string>(
      flags,
      [&into, flags](const std::string& text) {
        into.clear();
        for (const std::string& item : split_list(flags, text)) {
          if constexpr (std::is_same_v<T, std::string>) into.push_back(item);
          else into.push_back(static_cast<T>(std::stoll(item)));  // checked by `each` already
        }
      },
      help);
  opt->check(list_of(std::move(each)));
  return opt;
}

// `listed`: show the choices next to the option in --help (off when the help text lists them).
CLI::Validator one_of(std::vector<std::string> names, bool listed = true);
CLI::Validator whole_number(long long lo, long long hi);
// A real number in the interval; open ends exclude the bound. A fraction such as 25/9 or 5/3 is
// taken too, and handed on as its value: apply with ->transform(), not ->check().
CLI::Validator real_number(double lo, double hi, bool open_lo = false, bool open_hi = false);

// Not "": an empty file name (a script's unset variable) must not mean "none".
CLI::Validator non_empty(std::string_view what);

// "8GiB", "512M", "1.5G" or plain bytes (K, M, G, T are powers of 1024) -> bytes.
CLI::Validator byte_size();
std::uint64_t parse_byte_size(std::string_view text);  // throws invalid_argument, out_of_range (not 1 B..16 EiB)

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
      desc, std::string(kChoicesTag) + join(names, ","));
}

}  // namespace gf
