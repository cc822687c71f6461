#pragma once
// The values one sweep axis takes: a list `a,b,c`, an inclusive range `start:stop[:step]`, or a
// mix (`1,5:50:5`). Values come out as canonical text, ready to be parsed by the option they
// belong to, so every value is checked by the same validator (and message) as in `analyze`.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gf {

// integer: ranges of whole numbers (depth, width, batch, seed, ...); real: ranges of reals,
// each value rounded to 12 significant digits so 0.1:0.3:0.1 gives 0.1, 0.2, 0.3 and not
// 0.30000000000000004; text: lists only; file: a list of files (--model, --data, --arch), read
// by base/file_list.h's rule: a text that names an existing file is that file, commas, colons and
// brackets in its name included; else commas separate files, a name's own comma written twice.
enum class AxisKind { integer, real, text, file };

// `items` are the option's raw results (one per occurrence on the command line, or per element
// of a config file's array). Commas split items, except inside [...]: with `brackets`, an item
// `[64,32,16]` is one value (a per-layer width list) and comes out as "64,32,16".
// Throws UsageError naming `--name`; refuses more than max_values values without expanding them.
std::vector<std::string> axis_values(std::string_view name, AxisKind kind,
                                     const std::vector<std::string>& items, bool brackets,
                                     std::uint64_t max_values);

// What checking an axis needs, without expanding it: each list value, and the first and last
// value of each range (every numeric option's validator is an interval, so a range whose ends
// pass holds no value that fails). Throws the same UsageErrors as axis_values for bad syntax.
std::vector<std::string> axis_probe_values(std::string_view name, AxisKind kind, std::string_view text,
                                           bool brackets);

}  // namespace gf
