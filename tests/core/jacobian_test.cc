// --jacobian against independent computations: the Jacobian of a plain Eigen forward pass by
// central differences, its spectrum by Eigen's JacobiSVD (the engine uses BDCSVD), the pooled
// figures from traces and determinants (no SVD), orthogonal products whose singular values are 1
// by construction, a deep product against a Frobenius-renormalised product, and any --threads.
#include <doctest/doctest.h>

#include <Eigen/LU>
#include <Eigen/SVD>
#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "base/errors.h"
#include "core/analysis.h"
#include "core/jacobian_stats.h"
#include "core/run_json.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

AnalysisConfig small_config(Index depth, Index width, Index input_dim) {
  AnalysisConfig c;
  c.depth = depth;
  c.width = {width};
  c.input_dim = input_dim;
  c.batch = 8;
  c.dtype = Dtype::f64;
  c.threads = 1;
  return c;
}

// A network drawn and pushed forward: what --jacobian reads.
struct Forward {
  explicit Forward(const AnalysisConfig& c, const char* act) : net(network_spec(c, *find_activation(act))) {
    network_draw(net);
    network_forward(net, pass);
  }
  JacobianSpectra spectra(Index samples) {
    return jacobian_spectra(net.spec, net.params, net.ws, pass, samples);
  }
  Network<double> net;
  PassResult pass;
};

// a_L of one input x (n_0) from the definitions: h = W a + b, a = phi(h).
VectorXd reference_forward(const Network<double>& net, const std::string& act, const VectorXd& x) {
  VectorXd a = x;
  for (Index l = 1; l <= net.spec.depth(); ++l) {
    const VectorXd h = MatrixXd(net.params.W[l].cast<double>()) * a + VectorXd(net.params.b[l]);
    a = h.unaryExpr([&](double v) { return ref_phi(act, v); });
  }
  return a;
}

// d a_L / d x by fourth-order central differences of reference_forward.
MatrixXd fd_jacobian(const Network<double>& net, const std::string& act, const VectorXd& x0) {
  const Index n_out = net.spec.width(net.spec.depth()), n_in = x0.size();
  MatrixXd J(n_out, n_in);
  for (Index i = 0; i < n_out; ++i)
    for (Index j = 0; j < n_in; ++j)
      J(i, j) = derivative([&](double e) {
        VectorXd x = x0;
        x(j) += e;
        return reference_forward(net, act, x)(i);
      });
  return J;
}

}  // namespace

TEST_CASE("linear network, orthogonal weights: every singular value of J is 1, depth 1 to 500") {
  for (Index depth : {1, 2, 7, 50, 200, 500}) {
    CAPTURE(depth);
    AnalysisConfig c = small_config(depth, 24, 24);
    c.init = "orthogonal";
    Forward f(c, "identity");
    const JacobianSpectra sp = f.spectra(2);
    double worst = 0;
    for (std::size_t k = 0; k < 2; ++k)
      for (Index i = 0; i < sp.s[k].size(); ++i)
        worst = std::max(worst, std::abs(sp.s[k][i] * std::pow(10.0, sp.log10_scale[k]) - 1));
    // Each factor is orthogonal to about n eps; L of them.
    CHECK(worst < 1e-14 * static_cast<double>(depth) + 1e-13);
    const JacobianStats st = jacobian_stats(sp);
    CHECK(std::abs(st.s2_mean - 1) < 1e-12 * static_cast<double>(depth));
    CHECK(st.s2_var < 1e-24 * static_cast<double>(depth * depth));
    CHECK(st.isometry == doctest::Approx(1).epsilon(1e-12));
    CHECK(st.rank_fraction == 1);
    MESSAGE("depth ", depth, ": max |s - 1| = ", worst, ", var s^2 = ", st.s2_var);
  }
}

TEST_CASE("J agrees with central differences of an independent forward pass; its spectrum and pooled figures "
          "with an SVD and traces of that J") {
  for (const char* act : {"tanh", "relu", "sigmoid"}) {
    CAPTURE(act);
    AnalysisConfig c = small_config(3, 6, 5);  // J is 6 x 5: a tall J, 5 singular values
    c.sigma_w2 = 2.0;
    c.sigma_b2 = 0.1;
    Forward f(c, act);
    const Index S = 3, n = 5;
    const Jacobians js = jacobians(f.net.spec, f.net.params, f.net.ws, f.pass, S);
    const JacobianSpectra sp = f.spectra(S);
    const JacobianStats st = jacobian_stats(sp);

    double worst = 0, sum_s2 = 0, sum_s4 = 0, isometry = 0, s_max = 0;
    std::vector<double> all_s2;
    for (Index k = 0; k < S; ++k) {
      const MatrixXd J_fd = fd_jacobian(f.net, act, f.net.ws.A[0].row(k).transpose());
      const MatrixXd J = js.J[static_cast<std::size_t>(k)] * std::pow(10.0, js.log10_scale[static_cast<std::size_t>(k)]);
      for (Index i = 0; i < J.rows(); ++i)
        for (Index j = 0; j < J.cols(); ++j) worst = std::max(worst, rel_err(J(i, j), J_fd(i, j)));
      const MatrixXd G = J_fd.transpose() * J_fd;  // (n, n): its eigenvalues are the s^2
      sum_s2 += G.trace();
      sum_s4 += (G * G).trace();
      if (std::string(act) != "relu") isometry += std::pow(G.determinant(), 1.0 / n) / (G.trace() / n);
      const VectorXd s_fd = Eigen::JacobiSVD<MatrixXd>(J_fd).singularValues();
      s_max = std::max(s_max, s_fd[0]);
      const auto ku = static_cast<std::size_t>(k);
      for (Index i = 0; i < n; ++i)
        CHECK(std::abs(sp.s[ku][i] * std::pow(10.0, sp.log10_scale[ku]) - s_fd[i]) < 1e-7 * s_fd[0]);
    }
    CHECK(worst < 1e-7);
    const double N = static_cast<double>(S * n), mean = sum_s2 / N, var = sum_s4 / N - mean * mean;
    CHECK(st.s2_mean == doctest::Approx(mean).epsilon(1e-8));
    CHECK(st.s2_mean_log10 == doctest::Approx(std::log10(mean)).epsilon(1e-8));
    CHECK(st.s2_var == doctest::Approx(var).epsilon(1e-6));
    CHECK(st.s_max_log10 == doctest::Approx(std::log10(s_max)).epsilon(1e-8));
    // relu: units off at a sample zero rows of J, which the tolerance then calls rank-deficient
    if (std::string(act) != "relu") {
      CHECK(st.rank_fraction == 1);
      CHECK(st.isometry == doctest::Approx(isometry / static_cast<double>(S)).epsilon(1e-6));
    }
    MESSAGE(std::string(act), ": worst entry rel err ", worst, ", mean s^2 ", st.s2_mean, " (traces: ", mean, "), var ",
            st.s2_var, " (", var, "), isometry ", st.isometry, ", rank ", st.rank_fraction);
  }
}

TEST_CASE("depth 500: J stays finite; mean s^2 matches a Frobenius-renormalised product and (sigma_w2)^L") {
  AnalysisConfig c = small_config(500, 16, 16);
  c.sigma_w2 = 5.0;  // mean s^2 about 5^500 = 10^349: beyond f64 as a plain number
  Forward f(c, "identity");
  const JacobianStats st = jacobian_stats(f.spectra(1));
  // The same product in the test's own loop, renormalised by its Frobenius norm at each layer.
  MatrixXd J = MatrixXd::Identity(16, 16);
  double log10_norm2 = 0;
  for (Index l = 1; l <= 500; ++l) {
    J = MatrixXd(f.net.params.W[l]) * J;
    const double norm2 = J.squaredNorm();
    J /= std::sqrt(norm2);
    log10_norm2 += std::log10(norm2);
  }
  const double expected = log10_norm2 - std::log10(16.0);  // mean of s^2 = ||J||_F^2 / n
  CHECK(st.s2_mean_log10 == doctest::Approx(expected).epsilon(1e-10));
  CHECK(std::isnan(st.s2_mean));  // null, not inf
  // E ||W v||^2 = sigma_w2 ||v||^2, so log10 mean s^2 / L is log10 5 less about 1/n per layer
  // in ln (E ln of a chi-square mean over about n terms is -1/n): within 0.05 of 0.699 at n = 16.
  CHECK(std::abs(st.s2_mean_log10 / 500 - std::log10(5.0)) < 0.05);
  MESSAGE("depth 500 linear Gaussian sigma_w2=5: log10 mean s^2 ", st.s2_mean_log10, " (own product ", expected,
          ", L log10 5 = ", 500 * std::log10(5.0), ")");

  AnalysisConfig t = small_config(500, 32, 32);  // tanh near criticality, f32: finite throughout
  t.dtype = Dtype::f32;
  t.sigma_w2 = 1.0;
  Network<float> net(network_spec(t, *find_activation("tanh")));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  const JacobianStats ts = jacobian_stats(jacobian_spectra(net.spec, net.params, net.ws, pass, 2));
  CHECK(std::isfinite(ts.s2_mean_log10));
  CHECK(std::isfinite(ts.s_max_log10));
  CHECK(ts.s2_mean_log10 < 0);  // tanh's slopes below 1 shrink J
}

TEST_CASE("depth 500, linear orthogonal scaled by c = 0.1 per layer: every s is exactly 10^-500, reported in log10") {
  // J = c^L Q_L ... Q_1: every singular value c^L = 10^-500, far below f64's 10^-308 (and mean s^2
  // 10^-1000). The walk's power-of-2 renormalisation keeps the product's unit-scale part exact.
  for (Index depth : {100, 500}) {
    CAPTURE(depth);
    AnalysisConfig c = small_config(depth, 24, 24);
    c.init = "orthogonal";
    c.sigma_w2 = 0.01;  // gain sqrt(sigma_w2) = 0.1
    Forward f(c, "identity");
    const JacobianStats st = jacobian_stats(f.spectra(2));
    const double expected = -static_cast<double>(depth);  // log10 c^L
    MESSAGE("depth ", depth, ": log10 s_max ", st.s_max_log10, ", log10 s_min ", st.s_min_log10,
            ", log10 mean s^2 ", st.s2_mean_log10, " (closed form ", expected, ", ", 2 * expected, ")");
    CHECK(std::abs(st.s_max_log10 / expected - 1) < 1e-10);
    CHECK(std::abs(st.s_min_log10 / expected - 1) < 1e-10);
    CHECK(std::abs(st.s2_mean_log10 / (2 * expected) - 1) < 1e-10);
    CHECK(st.rank_fraction == 1);
    CHECK(st.s2_var_rel < 1e-20);
    CHECK(st.isometry == doctest::Approx(1).epsilon(1e-12));
    if (depth == 500) {
      CHECK(std::isnan(st.s2_mean));  // 10^-1000 is no f64: null, with its log10 above
    }
  }
}

TEST_CASE("--jacobian: identical JSON for any --threads, and errors that name the flag") {
  AnalysisConfig c;
  c.activations = {"tanh", "relu"};
  c.depth = 6;
  c.width = {100};  // two blocks of units, one partial
  c.input_dim = 70;
  c.batch = 16;
  c.jacobian = true;
  c.jacobian_samples = 3;
  std::string docs[2];
  for (int i = 0; i < 2; ++i) {
    c.threads = i == 0 ? 1 : 3;
    const AnalysisResult r = run_analysis(c);
    for (const RunResult& run : r.runs) {
      REQUIRE(run.jacobian);
      docs[i] += run_json(run).dump();
    }
  }
  CHECK(docs[0] == docs[1]);
  CHECK(docs[0].find("\"jac_isometry\"") != std::string::npos);

  c.jacobian_samples = 17;
  try {
    validate(c);
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("--jacobian-samples 17 is more than --batch 16") != std::string::npos);
  }
}
