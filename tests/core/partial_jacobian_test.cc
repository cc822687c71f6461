// --jacobian-depths: the partial Jacobians d a_L / d a_l (core/jacobian.h's `from`) against
// central differences of a forward map from a_l written here; at l = 0 the full J; orthogonal
// linear partials with every singular value 1; Gaussian linear partials whose variance of s^2
// grows like the number of layers they span (Pennington et al. 2017's L, here m = L - l); the
// flag's refusals; JSON records.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "residual_config.h"
#include "base/errors.h"
#include "core/analysis.h"
#include "core/engine.h"
#include "core/jacobian.h"
#include "core/jacobian_stats.h"
#include "core/run_json.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using ojson = nlohmann::ordered_json;

namespace {

AnalysisConfig linear_config(const char* init, Index depth, Index width) {
  AnalysisConfig c;
  c.activations = {"identity"};
  c.init = init;
  c.depth = depth;
  c.width = {width};
  c.batch = 4;
  c.dtype = Dtype::f64;
  c.jacobian = true;
  c.jacobian_samples = 1;  // linear: every sample has the same J
  c.threads = 2;
  return c;
}

const JacobianStats& partial_at(const RunResult& r, Index l) {
  for (const PartialJacobianStats& p : r.jacobian_partials)
    if (p.layer == l) return p.stats;
  FAIL("no partial at layer ", l);
  return *r.jacobian;
}

}  // namespace

TEST_CASE("partial Jacobians d a_L / d a_l against central differences of the layers above l; at l = 0 the full J") {
  AnalysisConfig c;
  c.activations = {"tanh"};
  c.depth = 5;
  c.width = {6, 7, 5, 6, 4};  // each partial has its own shape
  c.input_dim = 5;
  c.batch = 4;
  c.sigma_w2 = 2.0;
  c.sigma_b2 = 0.1;
  c.dtype = Dtype::f64;
  c.threads = 1;
  Network<double> net(network_spec(c, *find_activation("tanh")));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  network_backward(net, pass);
  const Index L = 5;
  // a_L from a_l (a row of the forward's A[l]) through layers l+1 .. L, from the definitions.
  auto from_layer = [&](Index l, const VectorXd& a_l) {
    VectorXd a = a_l;
    for (Index m = l + 1; m <= L; ++m) {
      const VectorXd h = MatrixXd(net.params.W[m]) * a + VectorXd(net.params.b[m]);
      a = h.unaryExpr([](double v) { return ref_phi("tanh", v); });
    }
    return a;
  };
  double worst = 0;
  for (Index l : {0, 1, 3, 4}) {
    CAPTURE(l);
    const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, 2, l);
    for (Index k = 0; k < 2; ++k) {
      const auto ku = static_cast<std::size_t>(k);
      const MatrixXd J = js.J[ku] * std::pow(10.0, js.log10_scale[ku]);
      REQUIRE(J.rows() == 4);
      REQUIRE(J.cols() == net.spec.width(l));
      const VectorXd a0 = net.ws.A[l].row(k).transpose();
      for (Index j = 0; j < J.cols(); ++j)
        for (Index i = 0; i < J.rows(); ++i) {
          const double fd = derivative([&](double e) {
            VectorXd a = a0;
            a(j) += e;
            return from_layer(l, a)(i);
          });
          worst = std::max(worst, rel_err(J(i, j), fd));
        }
    }
  }
  CHECK(worst < 1e-7);
  MESSAGE("partial Jacobians against central differences: worst entry rel err ", worst);

  // Through analyze: the record at l = 0 is the full J's, every figure to the bit.
  c.jacobian = true;
  c.jacobian_samples = 3;
  c.jacobian_depths = {3, 0, 1};
  const RunResult r = run_analysis(c).runs[0];
  REQUIRE(r.jacobian);
  REQUIRE(r.jacobian_partials.size() == 3);
  CHECK(r.jacobian_partials[0].layer == 3);  // in the order given
  const ojson doc = run_json(r);
  ojson full = {{"layer", 0}};
  full.update(doc["jacobian"]);
  CHECK(doc["jacobian_partials"][1].dump() == full.dump());
  // and at l = 1 it is what jacobian_spectra gives from the walk started after layer 1
  const JacobianStats one = jacobian_stats(jacobian_spectra(net.spec, net.params, net.ws, pass, 3, 1));
  CHECK(partial_at(r, 1).s2_mean_log10 == one.s2_mean_log10);
  CHECK(partial_at(r, 1).s2_var == one.s2_var);
}

TEST_CASE("linear orthogonal: every partial's singular values are 1") {
  AnalysisConfig c = linear_config("orthogonal", 50, 24);
  c.jacobian_depths = {0, 10, 25, 49};
  const RunResult r = run_analysis(c).runs[0];
  for (const PartialJacobianStats& p : r.jacobian_partials) {
    CAPTURE(p.layer);
    CHECK(std::abs(p.stats.s_max_log10) < 1e-13);
    CHECK(std::abs(p.stats.s_min_log10) < 1e-13);
    CHECK(p.stats.s2_var < 1e-24);
    CHECK(p.stats.isometry == doctest::Approx(1).epsilon(1e-12));
  }
}

TEST_CASE("linear Gaussian: the variance of s^2 of the partial over the last m layers grows like m") {
  // Pennington et al. 2017: a product of m Gaussian layers at sigma_w2 = 1 has mean s^2 1 and
  // variance m at infinite width; the full-J test's tolerance for width n, 2.5 m / n (finite-width
  // corrections of relative order m / n, Hanin & Nica 2019).
  const Index L = 16, n = 256;
  AnalysisConfig c = linear_config("auto", L, n);
  c.sigma_w2 = 1.0;
  c.jacobian_depths = {0, 8, 12};
  const RunResult r = run_analysis(c).runs[0];
  double var[3] = {};
  int i = 0;
  for (Index l : {0, 8, 12}) {
    const double m = static_cast<double>(L - l);
    const JacobianStats& st = partial_at(r, l);
    MESSAGE("m = ", m, ": var s^2 / mean^2 ", st.s2_var_rel, ", log10 mean s^2 ", st.s2_mean_log10);
    CHECK(std::abs(st.s2_var_rel / m - 1) < 2.5 * m / static_cast<double>(n));
    var[i++] = st.s2_var_rel;
  }
  CHECK(var[0] / var[1] == doctest::Approx(2).epsilon(0.15));  // 16 layers against 8
  CHECK(var[1] / var[2] == doctest::Approx(2).epsilon(0.15));  // 8 against 4
}

TEST_CASE("--jacobian-depths: residual partials on the stream (ReZero: every one the identity); refusals name "
          "the flag, the value and what is allowed") {
  AnalysisConfig c = residual_config("tanh", 8, 2, 6, "0", 4);
  c.input_dim = 5;  // a projection first: layer 1; the stream at 0, 1, 3, 5, 7
  c.jacobian = true;
  c.jacobian_samples = 2;
  c.jacobian_depths = {1, 3, 7};
  const RunResult r = run_analysis(c).runs[0];
  REQUIRE(r.jacobian_partials.size() == 3);
  for (const PartialJacobianStats& p : r.jacobian_partials) {
    CAPTURE(p.layer);
    CHECK(std::abs(p.stats.s_max_log10) < 1e-14);
    CHECK(std::abs(p.stats.s_min_log10) < 1e-14);
  }
  auto refusal = [&](std::vector<Index> depths) {
    c.jacobian_depths = std::move(depths);
    try {
      validate(c);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(refusal({2}).find("--jacobian-depths: layer 2 is inside a residual block (--residual 2)") != std::string::npos);
  CHECK(refusal({2}).find("0 or 1 plus a multiple of 2") != std::string::npos);
  CHECK(refusal({9}).find("--jacobian-depths: 9 is not below the network's 9 layers; give l from 0") !=
        std::string::npos);
  CHECK(refusal({3, 3}).find("--jacobian-depths: 3 is given twice") != std::string::npos);
  c.jacobian = false;
  c.jacobian_depths = {3};
  CHECK(refusal({3}) == "no error");
  bool noted = false;
  for (const std::string& note : run_one(c, *find_activation("tanh")).summary.notes)
    noted = noted || note.find("--jacobian-depths 3 has no effect without --jacobian") != std::string::npos;
  CHECK(noted);
}
