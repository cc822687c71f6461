// analyze --plot-spectrum: the histogram is a density (it integrates to 1, each value in its bin),
// and the binary draws it only with --jacobian.
#include <doctest/doctest.h>

#include "process.h"
#include "report/plots.h"

using namespace gf;
using namespace gf::test;

TEST_CASE("density: counts over total x bin width, the top value in the last bin") {
  const std::vector<double> v = {0.0, 0.1, 0.9, 1.0, 1.0, 2.0};  // [0, 2] in 4 bins of 0.5
  const auto [x, y] = density(v, 0.0, 2.0, 4);
  REQUIRE(x.size() == 4);
  CHECK(x[0] == 0.25);
  CHECK(x[3] == 1.75);
  CHECK(y[0] == doctest::Approx(2.0 / (6 * 0.5)));  // 0.0, 0.1
  CHECK(y[1] == doctest::Approx(1.0 / (6 * 0.5)));  // 0.9
  CHECK(y[2] == doctest::Approx(2.0 / (6 * 0.5)));  // 1.0, 1.0
  CHECK(y[3] == doctest::Approx(1.0 / (6 * 0.5)));  // 2.0: the upper end
  double area = 0;
  for (double d : y) area += d * 0.5;
  CHECK(area == doctest::Approx(1));
}

TEST_CASE("analyze --plot-spectrum writes an SVG with one line per activation, only with --jacobian") {
  const std::string dir = temp_dir();
  const ProcessResult r = run_gradflow({"analyze", "-a", "tanh,identity", "--init", "orthogonal", "-d", "4", "-w", "16",
                                        "-b", "8", "--jacobian", "--plot-spectrum", dir + "/s.svg"});
  REQUIRE(r.exit_code == 0);
  const std::string svg = read_file(dir + "/s.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("tanh (orthogonal)") != std::string::npos);
  CHECK(svg.find("identity (orthogonal)") != std::string::npos);
  const ProcessResult no = run_gradflow({"analyze", "-a", "tanh", "--plot-spectrum", dir + "/t.svg"});
  CHECK(no.exit_code == 2);
  CHECK(no.err.find("add --jacobian") != std::string::npos);
  CHECK(!file_exists(dir + "/t.svg"));
}
