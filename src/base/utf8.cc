#include "base/utf8.h"

#include <cstdint>
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

// The code point of the valid UTF-8 sequence of n bytes at text[i].
char32_t code_point(std::string_view text, std::size_t i, std::size_t n) {
  const auto byte = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(text[i + k])); };
  if (n == 1) return byte(0);
  char32_t cp = byte(0) & (0xFFu >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (byte(k) & 0x3Fu);
  return cp;
}

// Unicode's bidirectional formatting characters (UAX #9, "Explicit Directional Formatting
// Characters" and "Implicit Directional Marks"): the embeddings and overrides U+202A..U+202E, the
// isolates U+2066..U+2069, the marks U+200E, U+200F and U+061C. A terminal that implements the
// bidi algorithm shows text after them reordered, so a name can look like another one ("Trojan
// Source", Boucher and Anderson 2021, CVE-2021-42574).
bool is_bidi_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C;
}

// Characters that end a line or show as nothing, so that a name holding one reads as another
// (or as two lines) on the terminal: LINE SEPARATOR U+2028 and PARAGRAPH SEPARATOR U+2029 (a
// line break to any Unicode-aware reader), the zero-width space, non-joiner and joiner U+200B..
// U+200D, WORD JOINER U+2060, the invisible operators U+2061..U+2064 (function application,
// invisible times, separator and plus), SOFT HYPHEN U+00AD (shown only where a line is broken)
// and ZERO WIDTH NO-BREAK SPACE (the byte-order mark) U+FEFF.
bool is_invisible_or_separator(char32_t cp) {
  return cp == 0x2028 || cp == 0x2029 || (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
         cp == 0x00AD || cp == 0xFEFF;
}

// C0 controls and DEL as \xNN; C1 controls (U+0080..U+009F), the bidi controls and the invisible
// characters and separators above as \uNNNN; newline and tab kept when keep_lines.
std::string escape_controls(std::string_view text, bool keep_lines) {
  const std::string valid = valid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto u = static_cast<unsigned char>(valid[i]);
    const std::size_t n = u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;  // valid UTF-8: the lead byte says
    const char32_t cp = code_point(valid, i, n);
    if ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp) || is_invisible_or_separator(cp)) {
      out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(cp));
      i += n - 1;
    } else if ((u < 0x20 && !(keep_lines && (u == '\n' || u == '\t'))) || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.append(valid, i, n);
      i += n - 1;
    }
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) { return escape_controls(text, true); }

std::string printable_line(std::string_view text) { return escape_controls(text, false); }

}  // namespace gf
