#pragma once
// Text from outside (CSV headers and labels, file names, config strings) may be any bytes.
// gradflow never fails on it after the work is done: JSON and XML get valid UTF-8 (invalid
// sequences become U+FFFD), and messages on the terminal get no control characters.
#include <string>
#include <string_view>

namespace gf {

// `text` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

// For stderr: valid_utf8, with control characters but newline and tab written as \xNN, and C1
// controls, bidi controls, U+2028, U+2029 and the invisible U+200B..U+200D, U+2060..U+2064,
// U+00AD, U+FEFF as \uNNNN (a NUL no longer ends a message, an escape no longer reaches the
// terminal, a right-to-left override no longer reorders what it shows, a zero-width one hides
// nothing; utf8.cc lists them).
std::string printable(std::string_view text);

// For a table cell or one line of a report: as printable, with newline and tab escaped too, so
// a name from a file (an ONNX initializer, a record's label) keeps to its cell and its line.
// Every report on the terminal passes text from outside through it; JSON and CSV keep the text
// as it is (they are data: a name must read back as the file has it; base/csv_text quotes it).
std::string printable_line(std::string_view text);

}  // namespace gf
