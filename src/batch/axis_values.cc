#include "batch/axis_values.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <algorithm>
#include <cstdint>

#include "base/errors.h"
#include "base/file_list.h"
#include "base/real_text.h"

namespace gf {
namespace {

bool parse_integer(std::string_view text, long long& v) {
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  return ec == std::errc() && p == end && !text.empty();
}

bool parse_real(std::string_view text, double& v) { return parse_real_text(text, v); }  // 25/9 too

// Numbers get one spelling ("05" -> "5", "1e-3" -> "0.001"), so duplicates are caught and
// run ids do not depend on how a value was typed. Anything else is left for the validator.
std::string canonical(AxisKind kind, std::string_view text) {
  if (long long i = 0; kind == AxisKind::integer && parse_integer(text, i)) return std::to_string(i);
  if (double r = 0; kind == AxisKind::real && parse_real(text, r)) return fmt::format("{}", r);
  return std::string(text);
}

// Splits on commas outside [...].
std::vector<std::string> split_items(std::string_view name, std::string_view item, bool brackets) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (const char ch : item) {
    if (ch == '[' || ch == ']') {
      if (!brackets)
        throw UsageError(fmt::format("--{}: '{}': [...] lists of per-layer values are for --width and --jacobian-depths only",
                                     name, item));
      depth += ch == '[' ? 1 : -1;
      if (depth < 0 || depth > 1)
        throw UsageError(fmt::format("--{}: '{}' has unbalanced brackets", name, item));
    }
    if (ch == ',' && depth == 0) {
      parts.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (depth != 0) throw UsageError(fmt::format("--{}: '{}' has unbalanced brackets", name, item));
  parts.push_back(std::move(cur));
  return parts;
}

void too_many(std::string_view name, std::string_view what, std::uint64_t count, std::uint64_t max) {
  throw UsageError(fmt::format("--{}: {} gives {} values, more than the --max-runs limit of {}",
                               name, what, count, max));
}

// Appends the values of a range to `out`; with `ends_only`, its first and last value only (and
// no limit on how many it stands for).
void expand_range(std::string_view name, AxisKind kind, std::string_view text,
                  std::vector<std::string>& out, std::uint64_t max_values, bool ends_only = false) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == text.npos ? text.npos : colon - start));
    if (colon == text.npos) break;
    start = colon + 1;
  }
  if (kind == AxisKind::text)
    throw UsageError(fmt::format("--{}: '{}' looks like a range, but --{} takes names: give a list "
                                 "such as a,b,c",
                                 name, text, name));
  if (parts.size() > 3)
    throw UsageError(fmt::format("--{}: '{}' is not a range: give start:stop or start:stop:step",
                                 name, text));
  const std::string_view default_step = "1";
  const std::string_view step_text = parts.size() == 3 ? parts[2] : default_step;
  const std::string_view ends[] = {parts[0], parts[1], step_text};
  const char* roles[] = {"start", "stop", "step"};

  if (kind == AxisKind::integer) {
    long long v[3];
    for (int k = 0; k < 3; ++k)
      if (!parse_integer(ends[k], v[k]))
        throw UsageError(fmt::format("--{}: range '{}': {} '{}' is not a whole number (--{} "
                                     "ranges take whole numbers)",
                                     name, text, roles[k], ends[k], name));
    if (v[2] <= 0)
      throw UsageError(fmt::format("--{}: range '{}' has step {}: the step must be positive",
                                   name, text, v[2]));
    if (v[1] < v[0])
      throw UsageError(fmt::format("--{}: range '{}' is empty: stop {} is below start {} (ranges "
                                   "count up: start:stop:step with start <= stop)",
                                   name, text, v[1], v[0]));
    // (stop - start) can exceed long long's range: compute in unsigned.
    const std::uint64_t span = static_cast<std::uint64_t>(v[1]) - static_cast<std::uint64_t>(v[0]);
    const std::uint64_t steps = span / static_cast<std::uint64_t>(v[2]);
    if (steps == UINT64_MAX) too_many(name, fmt::format("range '{}'", text), steps, max_values);  // +1 would wrap
    const std::uint64_t count = steps + 1;
    auto value = [&](std::uint64_t k) {
      return std::to_string(static_cast<long long>(static_cast<std::uint64_t>(v[0]) + k * static_cast<std::uint64_t>(v[2])));
    };
    if (ends_only) {
      out.push_back(value(0));
      if (count > 1) out.push_back(value(count - 1));
      return;
    }
    if (count > max_values - std::min<std::uint64_t>(max_values, out.size()))
      too_many(name, fmt::format("range '{}'", text), count, max_values);
    out.reserve(out.size() + count);
    for (std::uint64_t k = 0; k < count; ++k) out.push_back(value(k));
    return;
  }

  double v[3];
  for (int k = 0; k < 3; ++k)
    if (!parse_real(ends[k], v[k]))
      throw UsageError(fmt::format("--{}: range '{}': {} '{}' is not a number", name, text, roles[k], ends[k]));
  if (v[2] <= 0)
    throw UsageError(fmt::format("--{}: range '{}' has step {}: the step must be positive", name,
                                 text, ends[2]));
  if (v[1] < v[0])
    throw UsageError(fmt::format("--{}: range '{}' is empty: stop {} is below start {} (ranges "
                                 "count up: start:stop:step with start <= stop)",
                                 name, text, ends[1], ends[0]));
  // A small allowance so that 0:0.3:0.1 (2.9999999999999996 steps) includes 0.3.
  const double steps = std::floor((v[1] - v[0]) / v[2] + 1e-9);
  auto value = [&](double k) {
    double x = 0;
    parse_real(fmt::format("{:.12g}", v[0] + k * v[2]), x);
    return fmt::format("{}", x);
  };
  if (ends_only) {
    out.push_back(value(0));
    if (steps >= 1) out.push_back(value(steps));
    return;
  }
  if (steps + 1 > static_cast<double>(max_values - std::min<std::uint64_t>(max_values, out.size())))
    too_many(name, fmt::format("range '{}'", text), static_cast<std::uint64_t>(std::min(steps + 1, 1e19)),
             max_values);
  for (double k = 0; k <= steps; ++k) out.push_back(value(k));
}

// The values of one item (one occurrence of the option) appended to `out`.
void add_values(std::string_view name, AxisKind kind, std::string_view item, bool brackets,
                std::uint64_t max_values, bool ends_only, std::vector<std::string>& out) {
  if (kind == AxisKind::file) {  // no ranges, no per-layer lists: only files
    for (std::string& f : split_file_list(fmt::format("--{}", name), item)) {
      out.push_back(std::move(f));
      if (!ends_only && out.size() > max_values) too_many(name, "the list", out.size(), max_values);
    }
    return;
  }
  for (const std::string& part : split_items(name, item, brackets)) {
    if (part.empty())
      throw UsageError(fmt::format("--{}: '{}' has an empty value; give a,b,c or start:stop:step", name, item));
    if (part.front() == '[') {
      if (part.back() != ']')
        throw UsageError(fmt::format("--{}: '{}': give a per-layer list as [a,b,c]", name, part));
      std::string inner;
      for (const std::string& w : split_items(name, std::string_view(part).substr(1, part.size() - 2), false)) {
        if (w.empty()) throw UsageError(fmt::format("--{}: '{}' has an empty value", name, part));
        if (!inner.empty()) inner += ',';
        inner += canonical(kind, w);
      }
      out.push_back(std::move(inner));
    } else if (part.find(':') != part.npos) {
      expand_range(name, kind, part, out, max_values, ends_only);
    } else {
      out.push_back(canonical(kind, part));
    }
    if (!ends_only && out.size() > max_values) too_many(name, "the list", out.size(), max_values);
  }
}

}  // namespace

std::vector<std::string> axis_values(std::string_view name, AxisKind kind,
                                     const std::vector<std::string>& items, bool brackets,
                                     std::uint64_t max_values) {
  std::vector<std::string> out;
  for (const std::string& item : items) add_values(name, kind, item, brackets, max_values, false, out);
  // Duplicates, found by sorting positions rather than a set of copies: a seed axis may hold a
  // million values.
  std::vector<std::size_t> order(out.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return out[a] < out[b]; });
  for (std::size_t k = 1; k < order.size(); ++k)
    if (out[order[k]] == out[order[k - 1]])
      throw UsageError(fmt::format("--{}: the value {} is given twice; every run of a sweep must "
                                   "differ",
                                   name, out[order[k]]));
  return out;
}

std::vector<std::string> axis_probe_values(std::string_view name, AxisKind kind, std::string_view text,
                                           bool brackets) {
  std::vector<std::string> out;
  add_values(name, kind, text, brackets, UINT64_MAX, true, out);
  return out;
}

}  // namespace gf
