#include "batch/aggregate.h"

#include <doctest/doctest.h>

#include <cmath>

#include "batch/progress.h"

using namespace gf;

TEST_CASE("describe: n, mean, sample std, min, max, and undefined values counted apart") {
  const Describe d = describe({1.0, 2.0, 4.0, 9.0}, 2);
  CHECK(d.n == 4);
  CHECK(d.nonfinite == 2);
  CHECK(d.mean == 4.0);
  // sum of squared deviations 9 + 4 + 0 + 25 = 38, over n - 1 = 3
  CHECK(d.std == doctest::Approx(std::sqrt(38.0 / 3.0)).epsilon(1e-15));
  CHECK(d.min == 1.0);
  CHECK(d.max == 9.0);
  CHECK(std::isnan(describe({3.0}, 0).std));  // one value has no sample std
  CHECK(std::isnan(describe({}, 1).mean));
}

TEST_CASE("progress line: counts, rate and time left") {
  CHECK(progress_line(25, 100, 5.0, false) == "######.................. 25/100 runs  5.0 runs/s  ETA 15 s");
  CHECK(progress_line(0, 10, 1.0, false).find("ETA ?") != std::string::npos);
  CHECK(format_duration(200) == "3 min 20 s");
  CHECK(format_duration(7500) == "2 h 05 min");
}
