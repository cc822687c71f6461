#include "config/validators.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "base/errors.h"

namespace gf {

std::vector<std::string> split_list(std::string_view flag, std::string_view text) {
  std::vector<std::string> items;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    items.emplace_back(text.substr(start, comma == text.npos ? text.npos : comma - start));
    if (items.back().empty())
      throw UsageError(fmt::format("{}: '{}' has an empty element: give a comma-separated list such as "
                                   "a,b,c, without empty elements or a trailing comma",
                                   flag.substr(flag.rfind(',') + 1), text));
    if (comma == text.npos) return items;
    start = comma + 1;
  }
}

CLI::Validator list_of(CLI::Validator each) {
  return CLI::Validator(
      [each](std::string& value) -> std::string {
        std::vector<std::string> items;
        try {
          items = split_list("", value);
        } catch (const UsageError&) {
          return fmt::format("'{}' has an empty element: give a comma-separated list such as a,b,c, without "
                             "empty elements or a trailing comma",
                             value);
        }
        for (std::string& item : items)
          if (std::string error = each(item); !error.empty()) return error;
        return "";
      },
      each.get_description(), each.get_name());  // the name keeps kChoicesTag's choices for cli_docs
}

CLI::Validator one_of(std::vector<std::string> names, bool listed) {
  const std::string desc = listed ? "{" + join(names, ",") + "}" : "";
  return CLI::Validator(
      [names](std::string& value) -> std::string {
        for (const std::string& n : names)
          if (n == value) return "";
        return "unknown value '" + value + "'" + did_you_mean(value, names) + "; allowed: " +
               join(names);
      },
      desc, std::string(kChoicesTag) + join(names, ","));
}

CLI::Validator whole_number(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& value) -> std::string {
        long long v = 0;
        const char* end = value.data() + value.size();
        const auto [p, ec] = std::from_chars(value.data(), end, v);
        if (ec != std::errc() || p != end || v < lo || v > hi)
          return fmt::format("'{}' is not allowed: give a whole number from {} to {}", value, lo, hi);
        return "";
      },
      "");
}

CLI::Validator real_number(double lo, double hi, bool open_lo, bool open_hi) {
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        double v = 0;
        const bool ok = parse_real_text(value, v) && (open_lo ? v > lo : v >= lo) && (open_hi ? v < hi : v <= hi);
        if (ok) {
          if (value.find('/') != std::string::npos) value = fmt::format("{}", v);  // shortest text that round-trips
          return "";
        }
        if (beyond_double_range(value))
          return fmt::format("'{}' is out of the range of a double (about 1e-308 to 1e308 in size)", value);
        std::string range;  // "", " above 0", " of at least 0", " in (0, 1)"
        if (std::isinf(lo) && std::isinf(hi)) range = "";
        else if (std::isinf(hi)) range = fmt::format(" {} {:g}", open_lo ? "above" : "of at least", lo);
        else range = fmt::format(" in {}{:g}, {:g}{}", open_lo ? "(" : "[", lo, hi, open_hi ? ")" : "]");
        return fmt::format("'{}' is not allowed: give a number{}", value, range);
      },
      "");
}

std::uint64_t parse_byte_size(std::string_view text) {
  double v = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || !std::isfinite(v) || v <= 0) throw std::invalid_argument("size");
  std::string unit(p, end);
  for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (unit.ends_with("IB")) unit.erase(unit.size() - 2);
  else if (unit.size() > 1 && unit.ends_with("B")) unit.pop_back();
  double factor = 1;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "K") factor = 1024.0;
  else if (unit == "M") factor = 1024.0 * 1024;
  else if (unit == "G") factor = 1024.0 * 1024 * 1024;
  else if (unit == "T") factor = 1024.0 * 1024 * 1024 * 1024;
  else throw std::invalid_argument("unit");
  // 2^64 bytes is 16 EiB: beyond it the conversion would wrap (to "0 B"); below one byte it
  // would round to 0, which is refused when typed as 0.
  const double bytes = v * factor;
  if (!(bytes < 18446744073709551616.0)) throw std::out_of_range("too large");
  if (bytes < 1) throw std::out_of_range("too small");
  return static_cast<std::uint64_t>(bytes);
}

CLI::Validator non_empty(std::string_view what) {
  return CLI::Validator(
      [what = std::string(what)](std::string& value) -> std::string {
        return value.empty() ? fmt::format("an empty value: give {}", what) : "";
      },
      "");
}

CLI::Validator byte_size() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          value = std::to_string(parse_byte_size(value));
          return "";
        } catch (const std::invalid_argument&) {
          return fmt::format("'{}' is not a size: give bytes, or a number with K, M, G or T "
                             "(powers of 1024), e.g. 8G or 512MiB",
                             value);
        } catch (const std::out_of_range& e) {
          return fmt::format("'{}' is {}: give a size from 1 byte to 16 EiB, e.g. 8G or 512MiB", value,
                             std::string_view(e.what()) == "too large" ? "too large" : "less than one byte");
        }
      },
      "");
}

}  // namespace gf
