// CSV text cells (RFC 4180): quoted only when they must be, quotes doubled, and for line-based
// record files a line break written as \n so a record stays one line.
#include <doctest/doctest.h>

#include "base/csv_text.h"

using namespace gf;

TEST_CASE("csv_text quotes a cell with a comma, a quote or a line break, and only then") {
  CHECK(csv_text("he_normal") == "he_normal");
  CHECK(csv_text("") == "");
  CHECK(csv_text("a,b") == "\"a,b\"");
  CHECK(csv_text("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_text("two\nlines") == "\"two\nlines\"");
  CHECK(csv_text("cr\r") == "\"cr\r\"");
}

TEST_CASE("csv_line_text keeps a record on one line") {
  CHECK(csv_line_text("plain") == "plain");
  CHECK(csv_line_text("a\nb") == "a\\nb");  // no comma or quote left: not quoted
  CHECK(csv_line_text("a,\r\nb") == "\"a,\\r\\nb\"");
  CHECK(csv_line_text("x\ny").find('\n') == std::string::npos);
}
