#include "base/seed_list.h"

#include <doctest/doctest.h>

#include "base/errors.h"

using gf::parse_seeds;
using gf::seeds_text;

TEST_CASE("parse_seeds: a seed, a range with a step, a list; seeds_text gives the shortest form back") {
  CHECK(parse_seeds("0:30:10") == std::vector<std::uint64_t>{0, 10, 20, 30});
  CHECK(parse_seeds("0:31").size() == 32);
  CHECK(parse_seeds("5:5") == std::vector<std::uint64_t>{5});
  CHECK(seeds_text({0, 10, 20}) == "0,10,20");
  CHECK(seeds_text(parse_seeds("3:9")) == "3:9");
  CHECK_THROWS_AS(parse_seeds("9:3"), gf::UsageError);
  CHECK_THROWS_AS(parse_seeds("1,1"), gf::UsageError);
  CHECK_THROWS_AS(parse_seeds("0:4:0"), gf::UsageError);
}
