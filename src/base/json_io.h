#pragma once
// JSON that people hand to gradflow (config files, baselines, rules) and JSON that gradflow
// writes. Reading is strict: a key given twice in one object, a number beyond a double's range
// (1e999) or malformed text is a UsageError naming the source, never a silent choice or an
// internal error. Writing never fails on text: invalid UTF-8 (a CSV label, a file name) is
// replaced by U+FFFD instead of throwing after the work is done.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gf {

// `source` starts every message: "--config c.json".
nlohmann::json parse_json_strict(std::string_view text, const std::string& source);

std::string dump_json(const nlohmann::ordered_json& doc, int indent = -1);
std::string dump_json(const nlohmann::json& doc, int indent = -1);

// The most read_input_file reads by default (a --config or --arch file).
inline constexpr std::size_t kMaxInputFileBytes = std::size_t{64} << 20;

// The whole of a file a flag names, up to max_bytes; UsageError "FLAG: 'path' is a directory
// ...", "FLAG: cannot read 'path': why" or "... holds more than N MiB".
std::string read_input_file(const std::string& path, std::string_view flag,
                            std::size_t max_bytes = kMaxInputFileBytes);

}  // namespace gf
