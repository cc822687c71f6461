#pragma once
// Text from outside (CSV headers and labels, file names, config strings) may be any bytes.
// gradflow never fails on it after the work is done: JSON and XML get valid UTF-8 (invalid
// sequences become U+FFFD), and messages on the terminal get no control characters.
#include <string>
#include <string_view>

namespace gf {

// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

// For stderr: valid_utf8, with control characters but newline and tab written as \xNN (a NUL
// no longer ends the message, an escape sequence no longer reaches the terminal).
std::string printable(std::string_view text);

}  // namespace gf
