#include "base/utf8.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

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

TEST_CASE("printable and printable_line escape Unicode's bidirectional controls as \\uNNNN, and keep their neighbours") {
  // Every bidi control of UAX #9 that reorders or marks direction ("Trojan Source", Boucher and
  // Anderson 2021), written out by hand in UTF-8.
  const std::vector<std::pair<std::string, std::string>> bidi = {
      {"\xD8\x9C", "\\u061c"},                                                 // ALM
      {"\xE2\x80\x8E", "\\u200e"}, {"\xE2\x80\x8F", "\\u200f"},                // LRM, RLM
      {"\xE2\x80\xAA", "\\u202a"}, {"\xE2\x80\xAB", "\\u202b"}, {"\xE2\x80\xAC", "\\u202c"},
      {"\xE2\x80\xAD", "\\u202d"}, {"\xE2\x80\xAE", "\\u202e"},                // LRE RLE PDF LRO RLO
      {"\xE2\x81\xA6", "\\u2066"}, {"\xE2\x81\xA7", "\\u2067"}, {"\xE2\x81\xA8", "\\u2068"},
      {"\xE2\x81\xA9", "\\u2069"}};                                             // LRI RLI FSI PDI
  for (const auto& [raw, shown] : bidi) {
    CAPTURE(shown);
    CHECK(printable_line("x" + raw + "y") == "x" + shown + "y");
    CHECK(printable("x" + raw + "y\n") == "x" + shown + "y\n");
  }
  // The file name of the paper's kind: "evil<RLO>gnp.onnx" shows as "evilxnno.png" on a bidi terminal.
  CHECK(printable_line("evil\xE2\x80\xAEgnp.onnx") == "evil\\u202egnp.onnx");
  // Their neighbours are text: U+202F, U+2065, U+2070, U+061B, U+061D, and characters of 2, 3
  // and 4 bytes around an escape. (U+200D, a neighbour too, is escaped as an invisible: below.)
  for (const std::string keep : {"\xE2\x80\xAF", "\xE2\x81\xA5", "\xE2\x81\xB0",
                                 "\xD8\x9B", "\xD8\x9D", "\xCE\xB1\xE2\x82\xAC\xF0\x9F\x98\x80"}) {
    CAPTURE(keep);
    CHECK(printable_line(keep) == keep);
  }
  CHECK(printable_line("\xCE\xB1\xE2\x80\xAE\xF0\x9F\x98\x80\x1b\xC2\x9B") == "\xCE\xB1\\u202e\xF0\x9F\x98\x80\\x1b\\u009b");
  // Idempotent: what is escaped has nothing left to escape (messages pass through twice).
  CHECK(printable(printable_line("a\xE2\x81\xA6" "b\x1b")) == printable_line("a\xE2\x81\xA6" "b\x1b"));
}

TEST_CASE("printable and printable_line escape the line and paragraph separators and the invisible characters as \\uNNNN") {
  // U+2028 and U+2029 break a line for any Unicode-aware reader; U+200B..U+200D, U+2060 and
  // U+FEFF show as nothing, so "re<ZWSP>lu" reads as "relu". Written out by hand in UTF-8.
  const std::vector<std::pair<std::string, std::string>> hidden = {
      {"\xE2\x80\xA8", "\\u2028"}, {"\xE2\x80\xA9", "\\u2029"},                // LS, PS
      {"\xE2\x80\x8B", "\\u200b"}, {"\xE2\x80\x8C", "\\u200c"}, {"\xE2\x80\x8D", "\\u200d"},  // ZWSP ZWNJ ZWJ
      {"\xE2\x81\xA0", "\\u2060"},                                                 // WORD JOINER
      {"\xEF\xBB\xBF", "\\ufeff"}};                                                // ZWNBSP (BOM)
  for (const auto& [raw, shown] : hidden) {
    CAPTURE(shown);
    CHECK(printable_line("x" + raw + "y") == "x" + shown + "y");
    CHECK(printable("x" + raw + "y\n") == "x" + shown + "y\n");
    CHECK(printable_line(raw + raw) == shown + shown);
  }
  // Their neighbours stay: U+200A (hair space), U+2010, U+2027, U+205F, U+FEFE, U+FF00.
  for (const std::string keep : {"\xE2\x80\x8A", "\xE2\x80\x90", "\xE2\x80\xA7", "\xE2\x81\x9F",
                                 "\xEF\xBB\xBE", "\xEF\xBC\x80"}) {
    CAPTURE(keep);
    CHECK(printable_line(keep) == keep);
  }
  // Idempotent, as the others.
  CHECK(printable(printable_line("a\xE2\x80\xA8" "b")) == "a\\u2028b");
}

TEST_CASE("printable and printable_line escape the invisible operators U+2061..U+2064 and the soft hyphen U+00AD as \\uNNNN") {
  // Each shows as nothing (a soft hyphen only where a line is broken), so "re<U+2062>lu" and
  // "re<SHY>lu" read as "relu", as with the zero-width characters above. Written out by hand in UTF-8.
  const std::vector<std::pair<std::string, std::string>> hidden = {
      {"\xE2\x81\xA1", "\\u2061"}, {"\xE2\x81\xA2", "\\u2062"},  // FUNCTION APPLICATION, INVISIBLE TIMES
      {"\xE2\x81\xA3", "\\u2063"}, {"\xE2\x81\xA4", "\\u2064"},  // INVISIBLE SEPARATOR, INVISIBLE PLUS
      {"\xC2\xAD", "\\u00ad"}};                                    // SOFT HYPHEN
  for (const auto& [raw, shown] : hidden) {
    CAPTURE(shown);
    CHECK(printable_line("re" + raw + "lu") == "re" + shown + "lu");
    CHECK(printable("re" + raw + "lu\n") == "re" + shown + "lu\n");
    CHECK(printable_line(raw + raw) == shown + shown);
    CHECK(printable(printable_line(raw)) == shown);  // idempotent
  }
  // Their neighbours stay: U+00AC (not sign), U+00AE (registered sign), U+2065 (unassigned) and
  // U+2070 (superscript zero); U+2060 and U+2066 are escaped for their own reasons (above).
  for (const std::string keep : {"\xC2\xAC", "\xC2\xAE", "\xE2\x81\xA5", "\xE2\x81\xB0"}) {
    CAPTURE(keep);
    CHECK(printable_line(keep) == keep);
  }
  CHECK(printable_line("\xE2\x81\xA0\xE2\x81\xA1\xE2\x81\xA4\xE2\x81\xA5\xE2\x81\xA6") ==
        "\\u2060\\u2061\\u2064\xE2\x81\xA5\\u2066");
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
