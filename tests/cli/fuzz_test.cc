// The fuzz targets of tests/fuzz_targets.h, replayed without libFuzzer: every seed of the corpus
// in tests/fuzz/corpus/<target>/, then a fixed sequence of mutations of them (bit flips,
// interesting bytes and tokens, deletions, duplications, splices), the same on every run. Runs in
// every build, the sanitizers' included; .ci/fuzz adds coverage-guided runs with libFuzzer.
// GRADFLOW_FUZZ_RUNS sets the mutations per target (default 2000).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <string>
#include <vector>

#include "fuzz_targets.h"
#include "process.h"

namespace {

std::vector<std::string> corpus(const std::string& target) {
  const std::string dir = std::string(GRADFLOW_SOURCE_DIR) + "/tests/fuzz/corpus/" + target;
  std::vector<std::string> names, seeds;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());  // readdir's order is the file system's
  for (const std::string& n : names) seeds.push_back(gf::test::read_file(dir + "/" + n));
  return seeds;
}

// xorshift64*: a fixed, portable sequence.
struct Random {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

const std::string kTokens[] = {"1e999", "-1e999", "1e-400", "nan", "inf", "-0", "0", "-1", "18446744073709551616",
                               "9223372036854775807", "\xff\xfe", std::string(1, '\0'), "\"\"", "[]", "{}", "[[",
                               "]]", ",,", ",", ":", "::", "null", "true", "\n", "\r\n", "\"", "'", "=",
                               "layers=1:", "[64,32,16]", "0:999999", "\xc3\x28", "\xed\xa0\x80"};
const char kBytes[] = {'\0', '\xff', '\x7f', '\n', ',', '"', '[', ']', '{', '}', ':', '-', '0', '9', 'e', '.', ' '};

std::string mutate(std::string s, const std::vector<std::string>& seeds, Random& r) {
  for (std::size_t k = 0, n = 1 + r.below(4); k < n; ++k) {
    const std::size_t at = r.below(s.size() + 1);
    switch (r.below(7)) {
      case 0:
        if (!s.empty()) s[r.below(s.size())] ^= static_cast<char>(1 << r.below(8));
        break;
      case 1:
        if (!s.empty()) s[r.below(s.size())] = kBytes[r.below(sizeof kBytes)];
        break;
      case 2: s.insert(at, kTokens[r.below(std::size(kTokens))]); break;
      case 3: s.erase(at, r.below(16)); break;
      case 4: s.insert(at, s.substr(r.below(s.size() + 1), r.below(32))); break;
      case 5: {
        const std::string& other = seeds[r.below(seeds.size())];
        s = s.substr(0, at) + other.substr(std::min(at, other.size()));
        break;
      }
      case 6:
        if (!s.empty()) s.erase(r.below(s.size()), 1);
        break;
    }
  }
  return s;
}

std::string escaped(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u < 0x7f && ch != '\\') out += ch;
    else out += "\\x" + std::string(1, "0123456789abcdef"[u >> 4]) + "0123456789abcdef"[u & 15];
  }
  return out;
}

std::size_t runs_per_target() {
  const char* env = std::getenv("GRADFLOW_FUZZ_RUNS");
  return env ? static_cast<std::size_t>(std::strtoull(env, nullptr, 10)) : 2000;
}

// Every seed, then the mutations: each must be accepted or refused with a UsageError.
void replay(const std::string& target, const std::function<void(std::string_view)>& run) {
  const std::vector<std::string> seeds = corpus(target);
  REQUIRE_MESSAGE(!seeds.empty(), "no seed corpus for " << target);
  Random r{0x9E3779B97F4A7C15ULL ^ std::hash<std::string>{}(target)};
  std::size_t executed = 0;
  const std::size_t mutations = runs_per_target();
  for (std::size_t k = 0; k < seeds.size() + mutations; ++k) {
    const std::string input = k < seeds.size() ? seeds[k] : mutate(seeds[r.below(seeds.size())], seeds, r);
    try {
      run(input);
      ++executed;
    } catch (const std::exception& e) {
      FAIL("fuzz target " << target << ": " << e.what() << "\n  input: " << escaped(input));
    }
  }
  MESSAGE(target << ": " << executed << " inputs ran clean (" << seeds.size() << " seeds, " << mutations
                 << " mutations)");
}

}  // namespace

TEST_CASE("fuzz replay: config files") { replay("config", gf::fuzz::config); }
TEST_CASE("fuzz replay: CSV data") { replay("csv", gf::fuzz::csv); }
TEST_CASE("fuzz replay: ONNX models") { replay("onnx", gf::fuzz::onnx); }
TEST_CASE("fuzz replay: JSONL records") { replay("records", gf::fuzz::records); }
