// The source tree is the map of the design (docs/architecture.md): src/ has one folder per layer,
// and a file includes only its own folder and the layers below it. This test keeps the map true.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Bottom up. Folders of one rank are siblings and must not include each other.
const std::map<std::string, int> kLayerRank = {
    {"base", 0},   {"core", 1},  {"theory", 2}, {"train", 2}, {"model", 2},
    {"config", 3}, {"batch", 4}, {"report", 5}, {"cli", 6},
};

const fs::path kSource = GRADFLOW_SOURCE_DIR;

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".h" || e.path().extension() == ".cc"))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The layer folder a path under src/ (or tests/) sits in: its first component.
std::string folder_of(const fs::path& p, const fs::path& top) {
  const fs::path rel = fs::relative(p, top);
  return std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : "";
}

// The rule: a file in folder `mine` may include one in `theirs`.
bool points_down(const std::string& mine, const std::string& theirs) {
  return theirs == mine || kLayerRank.at(theirs) < kLayerRank.at(mine);
}

}  // namespace

TEST_CASE("every source file sits in a layer folder") {
  for (const fs::path& p : files_under(kSource / "src")) {
    INFO(p.string());
    CHECK(kLayerRank.count(folder_of(p, kSource / "src")) == 1);
  }
}

TEST_CASE("includes point down: a layer includes only its own folder and the layers below") {
  const std::regex include(R"re(^\s*#\s*include\s+"([a-z_]+)/[^"]+")re");
  int checked = 0;
  for (const fs::path& p : files_under(kSource / "src")) {
    const std::string mine = folder_of(p, kSource / "src");
    if (!kLayerRank.count(mine)) continue;  // the test above reports it
    std::ifstream in(p);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      const std::string theirs = m[1];
      INFO(fs::relative(p, kSource).string() << ":" << n << " includes " << theirs << "/ from " << mine
                                             << "/");
      REQUIRE(kLayerRank.count(theirs) == 1);
      CHECK(points_down(mine, theirs));
      ++checked;
    }
    // An include of a src header by its bare name would bypass the check.
    in.clear();
    in.seekg(0);
    const std::regex bare(R"re(^\s*#\s*include\s+"([a-z_0-9]+\.h)")re");
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, bare)) {
        INFO(fs::relative(p, kSource).string() << " includes \"" << m[1] << "\" without its folder");
        CHECK(std::string(m[1]) == "version.h");  // generated into the build tree
      }
    }
  }
  CHECK(checked > 300);  // the scan saw the includes (a broken regex would pass vacuously)
}

TEST_CASE("the rule refuses upward and sideways includes") {
  CHECK(points_down("core", "core"));
  CHECK(points_down("report", "base"));
  CHECK_FALSE(points_down("core", "report"));
  CHECK_FALSE(points_down("train", "theory"));  // siblings
  CHECK_FALSE(points_down("theory", "train"));
}

TEST_CASE("tests mirror the folders: a test of src/F/x sits in tests/F/") {
  std::map<std::string, std::string> folder_of_stem;
  for (const fs::path& p : files_under(kSource / "src"))
    folder_of_stem[p.stem().string()] = folder_of(p, kSource / "src");
  int mirrored = 0;
  for (const fs::path& p : files_under(kSource / "tests")) {
    const std::string name = p.stem().string();
    if (!name.ends_with("_test")) continue;
    const auto it = folder_of_stem.find(name.substr(0, name.size() - 5));
    if (it == folder_of_stem.end()) continue;  // a test of behaviour across files (depth, sweep, ...)
    INFO(fs::relative(p, kSource).string() << " tests src/" << it->second << "/");
    CHECK(folder_of(p, kSource / "tests") == it->second);
    ++mirrored;
  }
  CHECK(mirrored > 20);
}
