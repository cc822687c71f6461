#pragma once
// Terminal manners: colour only on a terminal and never under NO_COLOR or TERM=dumb; Unicode
// bars only under a UTF-8 locale.
#include <string>
#include <string_view>

namespace gf {

enum class ColorMode { automatic, always, never };

bool is_terminal(int fd);
bool color_enabled(ColorMode mode, int fd);
bool utf8_locale();

enum class Tone { plain, bold, dim, good, warn, bad };

struct Style {
  bool color = false;
  bool utf8 = false;
  std::string paint(std::string_view text, Tone tone) const;
};

}  // namespace gf
