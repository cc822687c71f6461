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

TEST_CASE("--plot-spectrum overlays theory's density where it has one, and says where it has none") {
  const std::string dir = temp_dir();
  const ProcessResult gaussian = run_gradflow({"analyze", "-a", "identity,tanh", "--init", "xavier_normal", "-d", "4",
                                               "-w", "32", "-b", "8", "--jacobian", "--plot-spectrum", dir + "/g.svg"});
  REQUIRE(gaussian.exit_code == 0);
  const std::string g = read_file(dir + "/g.svg");
  // (the caption wraps: each phrase checked on its own)
  CHECK(g.find("Fuss-Catalan of order 4 scaled by prod sigma_w2 = 10^0.") != std::string::npos);
  CHECK(g.find("identity (xavier_normal) predicted") != std::string::npos);  // the dashed line's data-name
  CHECK(g.find("No prediction") == std::string::npos);
  // tanh: free probability's density (tests/theory/free_density_test.cc), named in the caption
  CHECK(g.find("tanh (xavier_normal) predicted") != std::string::npos);
  CHECK(g.find("free probability, Pennington et al. 2017") != std::string::npos);
  CHECK(g.find("width -&gt; infinity") != std::string::npos);  // XML-escaped

  const ProcessResult relu = run_gradflow({"analyze", "-a", "relu", "-d", "3", "-w", "32", "-b", "8", "--jacobian",
                                           "--plot-spectrum", dir + "/r.svg"});
  REQUIRE(relu.exit_code == 0);
  const std::string rs = read_file(dir + "/r.svg");
  CHECK(rs.find("relu (he_normal) predicted") != std::string::npos);
  CHECK(rs.find("a share 0.5 of s") != std::string::npos);  // Belinschi's atom, free_density.h

  const ProcessResult narrow = run_gradflow({"analyze", "-a", "tanh", "--input-dim", "16", "-d", "4", "-w", "32", "-b",
                                             "8", "--jacobian", "--plot-spectrum", dir + "/n.svg"});
  REQUIRE(narrow.exit_code == 0);
  const std::string n = read_file(dir + "/n.svg");
  CHECK(n.find("No prediction is drawn for") != std::string::npos);
  CHECK(n.find("square layers") != std::string::npos);
  CHECK(n.find(" predicted\"") == std::string::npos);

  const ProcessResult orthogonal = run_gradflow({"analyze", "-a", "identity", "--init", "orthogonal", "--gain", "1.1",
                                                 "-d", "3", "-w", "16", "-b", "8", "--jacobian", "--plot-spectrum",
                                                 dir + "/o.svg"});
  REQUIRE(orthogonal.exit_code == 0);
  const std::string o = read_file(dir + "/o.svg");
  // gain 1.1: sigma_w2 = 1.21 per layer, 1.21^3 = 10^0.248
  CHECK(o.find("10^0.248 (orthogonal weights)") != std::string::npos);
  CHECK(o.find("No prediction") == std::string::npos);
}
