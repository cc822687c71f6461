#include "batch/grid.h"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <fmt/format.h>
#include <set>

#include "batch/run_record.h"
#include "usage_error.h"

using namespace gf;
using gf::test::error_of;

namespace {

// A GridOptions as `sweep` would fill it from flags.
GridOptions options(const std::vector<std::pair<std::string, std::string>>& flags) {
  CLI::App app;
  GridOptions g;
  add_grid_options(app, g);
  for (const auto& [name, value] : flags) {
    const auto it = std::find(g.names.begin(), g.names.end(), name);
    REQUIRE(it != g.names.end());
    g.given[static_cast<std::size_t>(it - g.names.begin())].push_back(value);
  }
  return g;
}

}  // namespace

TEST_CASE("every network option of analyze is an axis, --threads aside, in help order") {
  const GridOptions g = options({});
  REQUIRE(g.names.size() >= 20);
  CHECK(g.names[0] == "activation");
  CHECK(g.names[1] == "depth");
  CHECK(std::find(g.names.begin(), g.names.end(), "threads") == g.names.end());
  const auto pos = [&](const char* n) { return std::find(g.names.begin(), g.names.end(), n) - g.names.begin(); };
  CHECK(pos("depth") < pos("width"));
  CHECK(pos("init") < pos("seed"));
  CHECK(pos("seed") < pos("dtype"));
}

TEST_CASE("the grid is the product of the axes, the last varying fastest") {
  const Grid grid(options({{"activation", "tanh,relu"}, {"depth", "5:10:5"}, {"width", "8"}, {"seed", "0:2"}}), 1000);
  REQUIRE(grid.size() == 12);
  CHECK(grid.shape() == "2 activation x 2 depth x 3 seed");
  std::size_t i = 0;
  for (const char* act : {"tanh", "relu"})
    for (const char* depth : {"5", "10"})
      for (const char* seed : {"0", "1", "2"}) {
        const std::vector<std::string> v = grid.values(i);
        CHECK(v == std::vector<std::string>{act, depth, "8", seed});
        const AnalysisConfig c = grid.config(i);
        CHECK(c.activations == std::vector<std::string>{act});
        CHECK(c.depth == std::stoi(depth));
        CHECK(c.width == std::vector<Index>{8});
        CHECK(c.seed == std::stoull(seed));
        ++i;
      }
  CHECK(grid.label(4) == "activation=tanh depth=10 seed=1");
  CHECK(grid.label(4, "activation") == "depth=10 seed=1");
}

TEST_CASE("without -a the activations are analyze's default three") {
  const Grid grid(options({{"depth", "3"}}), 100);
  CHECK(grid.size() == 3);
  CHECK(grid.config(2).activations == std::vector<std::string>{"relu"});
}

TEST_CASE("each value is checked by analyze's own validator, and combinations by validate()") {
  CHECK(error_of([] { Grid(options({{"depth", "0,5"}}), 100); }) ==
        "--depth: '0' is not allowed: give a whole number from 1 to 100000");
  CHECK(error_of([] { Grid(options({{"activation", "tanh,tahn"}}), 100); }).find("did you mean 'tanh'") !=
        std::string::npos);
  const Grid grid(options({{"activation", "tanh"}, {"init", "he_normal"}, {"sigma-w2", "1,2"}}), 100);
  const std::string combo = error_of([&] { grid.config(1); });
  CHECK(combo.find("run 2 of the grid (sigma-w2=2)") == 0);
  CHECK(combo.find("--init he_normal and --sigma-w2 both set the weight variance") != std::string::npos);
  CHECK(error_of([] { Grid(options({{"weights", "store,regenerate"}}), 100); }).find("give one value") !=
        std::string::npos);
}

TEST_CASE("a grid over --max-runs is refused with its shape") {
  const std::string e = error_of([] { Grid(options({{"depth", "1:50"}, {"seed", "0:99"}}), 1000); });
  CHECK(e.find("the grid has 15000 runs (3 activation x 50 depth x 100 seed), more than --max-runs 1000") == 0);
}

TEST_CASE("shards are interleaved slices that partition the grid") {
  std::set<std::uint64_t> seen;
  for (std::uint64_t k = 1; k <= 4; ++k) {
    const Shard s = parse_shard(std::to_string(k) + "/4");
    for (std::uint64_t i = 0; i < 23; ++i)
      if (s.contains(i)) CHECK(seen.insert(i).second);
  }
  CHECK(seen.size() == 23);
  CHECK(parse_shard("3/8").contains(2));
  CHECK(parse_shard("3/8").contains(10));
  std::string bad = "0/8";
  CHECK_FALSE(shard_spec()(bad).empty());
  bad = "9/8";
  CHECK_FALSE(shard_spec()(bad).empty());
  std::string good = "8/8";
  CHECK(shard_spec()(good).empty());
}

TEST_CASE("run_id is FNV-1a 64 of the compact config, and only the config") {
  // Published FNV-1a 64 test vectors.
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  AnalysisConfig c;
  c.activations = {"tanh"};
  c.depth = 3;
  c.width = {8};
  const auto j = record_config(c);
  CHECK(j["activation"] == "tanh");
  CHECK(j["width"] == 8);  // uniform widths collapse to one number
  CHECK(run_id_of(j) == fmt::format("{:016x}", fnv1a64(j.dump())));
  AnalysisConfig same = c;
  same.width = {8, 8, 8};
  same.threads = 7;  // never changes a result, so not in the id
  CHECK(run_id_of(record_config(same)) == run_id_of(j));
  AnalysisConfig other = c;
  other.seed = 1;
  CHECK(run_id_of(record_config(other)) != run_id_of(j));
}
