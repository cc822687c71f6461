#include "base/terminal.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace gf {

bool is_terminal(int fd) { return isatty(fd) == 1; }

bool color_enabled(ColorMode mode, int fd) {
  if (mode != ColorMode::automatic) return mode == ColorMode::always;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  return is_terminal(fd);
}

bool utf8_locale() {
  for (const char* var : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(var);
    if (v && *v) {
      const std::string_view s(v);
      return s.find("UTF-8") != s.npos || s.find("utf8") != s.npos || s.find("utf-8") != s.npos;
    }
  }
  return false;
}

std::string Style::paint(std::string_view text, Tone tone) const {
  if (!color || tone == Tone::plain) return std::string(text);
  const char* code = "";
  switch (tone) {
    case Tone::bold: code = "1"; break;
    case Tone::dim: code = "2"; break;
    case Tone::good: code = "32"; break;
    case Tone::warn: code = "33"; break;
    case Tone::bad: code = "31"; break;
    case Tone::plain: break;
  }
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace gf
