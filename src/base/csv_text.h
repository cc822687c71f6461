#pragma once
// Text cells of the CSV gradflow writes (RFC 4180): a name from a file, an init label
// ("auto (per layer: ...)") or a file name may hold commas, quotes or line breaks.
#include <string>
#include <string_view>

namespace gf {

// v, quoted when it holds a comma, a quote or a line break (quotes doubled); else as it is.
std::string csv_text(std::string_view v);

// The same for a file of one record per line (sweep's records, which --resume reads line by
// line): a line break inside v is written as the two characters \n or \r, then quoted.
std::string csv_line_text(std::string_view v);

}  // namespace gf
