#include "base/utf8.h"

#include <fmt/format.h>

namespace gf {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

namespace {

// C0 controls and DEL as \xNN, C1 controls (UTF-8 C2 80..C2 9F) as \u00NN; newline and tab
// kept when keep_lines.
std::string escape_controls(std::string_view text, bool keep_lines) {
  const std::string valid = valid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto u = static_cast<unsigned char>(valid[i]);
    const auto next = i + 1 < valid.size() ? static_cast<unsigned char>(valid[i + 1]) : 0;
    if (u == 0xC2 && next >= 0x80 && next <= 0x9F) {  // valid UTF-8: 0xC2 only ever leads
      out += fmt::format("\\u{:04x}", next);
      ++i;
    } else if ((u < 0x20 && !(keep_lines && (u == '\n' || u == '\t'))) || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += valid[i];
    }
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) { return escape_controls(text, true); }

std::string printable_line(std::string_view text) { return escape_controls(text, false); }

}  // namespace gf
