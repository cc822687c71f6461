#include "base/json_io.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <vector>

#include "base/errors.h"
#include "base/interrupt.h"

namespace gf {

nlohmann::json parse_json_strict(std::string_view text, const std::string& source) {
  using json = nlohmann::json;
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  std::string twice;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty() && twice.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      twice = parsed.get<std::string>();
    return true;
  };
  json doc;
  try {
    doc = json::parse(text, watch);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    std::string what = e.what();
    if (const auto p = what.find("] "); p != what.npos) what = what.substr(p + 2);
    throw UsageError(fmt::format("{}: malformed JSON: {}", source, what));
  }
  if (!twice.empty())
    throw UsageError(fmt::format("{}: the key '{}' is given twice in one object; give it once", source, twice));
  return doc;
}

std::string dump_json(const nlohmann::ordered_json& doc, int indent) {
  return doc.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string dump_json(const nlohmann::json& doc, int indent) {
  return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string read_input_file(const std::string& path, std::string_view flag, std::size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError(fmt::format("{}: '{}' is a directory; give a file", flag, path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("{}: cannot read '{}': {}", flag, path, std::strerror(errno)));
  // Read in pieces up to a bound: `--config /dev/zero` is an error, not a machine out of memory.
  std::string text;
  char piece[1 << 16];
  while (in.read(piece, sizeof piece) || in.gcount() > 0) {
    text.append(piece, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      throw UsageError(fmt::format("{}: '{}' holds more than {} MiB; that is not a file for {}", flag, path,
                                   max_bytes >> 20, flag));
    throw_if_interrupted();
  }
  if (in.bad()) throw UsageError(fmt::format("{}: cannot read '{}': {}", flag, path, std::strerror(errno)));
  return text;
}

}  // namespace gf
