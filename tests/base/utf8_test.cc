#include "base/utf8.h"

#include <doctest/doctest.h>

#include "base/errors.h"
#include "batch/run_record.h"
#include "config/validators.h"

using namespace gf;

namespace {
const std::string kFFFD = "\xEF\xBF\xBD";
}

TEST_CASE("valid_utf8 keeps UTF-8 and replaces every invalid sequence (RFC 3629)") {
  CHECK(valid_utf8("tanh, \xCE\xB1, \xE2\x82\xAC, \xF0\x9F\x98\x80") == "tanh, \xCE\xB1, \xE2\x82\xAC, \xF0\x9F\x98\x80");
  CHECK(valid_utf8("a\xFF" "b") == "a" + kFFFD + "b");
  CHECK(valid_utf8("\xC0\xAF") == kFFFD + kFFFD);          // an overlong '/'
  CHECK(valid_utf8("\xED\xA0\x80") == kFFFD + kFFFD + kFFFD);  // a UTF-16 surrogate
  CHECK(valid_utf8("\xF4\x90\x80\x80") == kFFFD + kFFFD + kFFFD + kFFFD);  // above U+10FFFF
  CHECK(valid_utf8("\xE2\x82") == kFFFD + kFFFD);          // cut short
}

TEST_CASE("printable escapes control characters, keeps newlines, and survives a NUL") {
  CHECK(printable(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(printable("x\x1b[31my\n\tz") == "x\\x1b[31my\n\tz");
  const UsageError e(std::string("cell '4\0zz'", 11));
  CHECK(std::string(e.what()) == "cell '4\\x00zz'");
}

TEST_CASE("printable escapes C1 controls; printable_line escapes newline and tab too, and keeps other text") {
  CHECK(printable("a\xC2\x9B" "2J") == "a\\u009b2J");  // U+009B, the one-byte CSI
  CHECK(printable("\xC2\xA0\xCE\xB1") == "\xC2\xA0\xCE\xB1");  // U+00A0 and alpha stay
  CHECK(printable_line("0.we\x1b[31mi\tx\ny\x7f") == "0.we\\x1b[31mi\\x09x\\x0ay\\x7f");
  CHECK(printable_line("a\xFF") == "a\xEF\xBF\xBD");  // invalid UTF-8 as U+FFFD, as printable
  CHECK(printable_line("2.fc1.weight") == "2.fc1.weight");
}

TEST_CASE("lists: empty elements are refused, naming the flag") {
  CHECK(split_list("--activation", "relu,tanh") == std::vector<std::string>{"relu", "tanh"});
  for (const char* bad : {"", ",", "relu,", ",relu", "relu,,tanh"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(split_list("-a,--activation", bad), doctest::Contains("--activation:"), UsageError);
  }
}

TEST_CASE("sizes beyond 16 EiB or below a byte are refused, not wrapped or rounded to 0") {
  CHECK_THROWS_AS(parse_byte_size("1P"), std::invalid_argument);  // no unit P
  CHECK_THROWS_AS(parse_byte_size("99999999999999999999G"), std::out_of_range);
  CHECK_THROWS_AS(parse_byte_size("16777216T"), std::out_of_range);  // 2^64 bytes exactly
  CHECK(parse_byte_size("16777215T") == 16777215ull << 40);
  CHECK_THROWS_AS(parse_byte_size("0.5"), std::out_of_range);
  CHECK(parse_byte_size("1") == 1);
}

TEST_CASE("a torn record is only the start of a record") {
  const std::string line =
      R"({"schema_version":1,"run_id":"0123456789abcdef","config":{"activation":"relu"},"summary":{}})";
  for (std::size_t n = 0; n <= line.size(); ++n) CHECK(is_torn_record(line.substr(0, n), false));
  CHECK_FALSE(is_torn_record("[1,2,3]", false));
  CHECK_FALSE(is_torn_record("garbage", false));
  CHECK_FALSE(is_torn_record(R"({"schema_version":1,"run_id":"0123456789abcdef"}x)", false));
  CHECK(is_torn_record("0123456789abcdef,relu,3", true));
  CHECK(is_torn_record("0123", true));
  CHECK_FALSE(is_torn_record("0123456789abcdefX", true));
  CHECK_FALSE(is_torn_record("run_id,activation", true));
}
