// Residual blocks (core/op_residual): gradients through skips against finite differences of a
// reference written from the definition s' = s + alpha F(s), in analyze (GradientTap) and train;
// the forward variance law; ReZero's identity blocks; thread independence; a deep sigmoid stack.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>

#include "closed_forms.h"
#include "fd_check.h"
#include "residual_config.h"
#include "core/analysis.h"
#include "core/engine.h"
#include "core/jacobian.h"
#include "core/run_json.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// The network from its definition (plain Eigen, f64): an optional linear projection, blocks of K
// dense layers (phi after each but the last), s' = s + alpha F(s), a linear head, xent.
struct Reference {
  std::string act;
  double alpha = 1;
  Index K = 2;
  bool projection = false;
  std::vector<MatrixXd> W;  // 1..L+1, the head last
  std::vector<VectorXd> b;
  MatrixXd x;
  std::vector<std::uint32_t> labels;
  mutable double min_abs_h = 0;  // the smallest |h| of a layer with phi: relu's kink must be far

  // The last block's output s_L for inputs x (rows); `shift` is added to the pre-activation of
  // layer shift_layer (for d loss / d h).
  MatrixXd stream_out(const MatrixXd& inputs, Index shift_layer = 0, const MatrixXd* shift = nullptr) const {
    const Index L = static_cast<Index>(W.size()) - 2;
    Index l = 0;
    min_abs_h = INFINITY;
    auto dense = [&](const MatrixXd& in, bool nonlinear) {
      ++l;
      MatrixXd h = in * W[l].transpose();
      h.rowwise() += b[l].transpose();
      if (shift && l == shift_layer) h += *shift;
      if (!nonlinear) return h;
      min_abs_h = std::min(min_abs_h, h.cwiseAbs().minCoeff());
      return MatrixXd(h.unaryExpr([&](double v) { return ref_phi(act, v); }));
    };
    MatrixXd s = projection ? dense(inputs, false) : inputs;
    while (l < L) {
      MatrixXd f = s;
      for (Index j = 1; j <= K; ++j) f = dense(f, j < K);
      s += alpha * f;
    }
    return s;
  }

  double loss_value(Index shift_layer = 0, const MatrixXd* shift = nullptr) const {
    const Index L = static_cast<Index>(W.size()) - 2;
    MatrixXd z = stream_out(x, shift_layer, shift) * W[L + 1].transpose();
    z.rowwise() += b[L + 1].transpose();
    double total = 0;
    for (Index i = 0; i < z.rows(); ++i) total += std::log(z.row(i).array().exp().sum()) - z(i, labels[i]);
    return total / static_cast<double>(z.rows());
  }
};

AnalysisConfig small_residual(const std::string& act, double alpha, Index input_dim, std::uint64_t seed) {
  AnalysisConfig c = residual_config(act, 4, 2, 6, fmt::format("{}", alpha), 3);
  c.input_dim = input_dim;
  c.classes = 4;
  c.sigma_b2 = 0.1;
  c.sigma_w2 = 1.5;
  c.seed = seed;
  return c;
}

Reference reference_of(const AnalysisConfig& c, const Network<double>& net) {
  Reference ref{c.activations[0], c.residual_alpha(), c.residual, c.input_dim != c.width[0], {}, {}, net.ws.A[0],
                net.ws.labels};
  for (Index l = 0; l < net.params.layers() + 1; ++l) {
    ref.W.push_back(net.params.W[static_cast<std::size_t>(l)]);
    ref.b.push_back(net.params.b[static_cast<std::size_t>(l)]);
  }
  return ref;
}

// A drawn network whose pre-activations keep clear of relu's kink (finite differences of 1e-4).
Network<double> clear_of_kinks(AnalysisConfig& c) {
  for (;; ++c.seed) {
    Network<double> net(network_spec(c, *find_activation(c.activations[0])));
    network_draw(net);
    reference_of(c, net).loss_value();
    if (reference_of(c, net).min_abs_h > 0.01 || c.seed > 200) return net;
  }
}

}  // namespace

TEST_CASE("gradients through residual blocks agree with finite differences: analyze and train, alpha 1 and 0.3") {
  double worst_analyze = 0, worst_train = 0;
  for (const char* act : {"tanh", "sigmoid", "relu", "gelu"}) {
    for (double alpha : {1.0, 0.3}) {
      for (Index input_dim : {6, 5}) {  // the stream is the data; a projection first
        CAPTURE(act);
        CAPTURE(alpha);
        CAPTURE(input_dim);
        AnalysisConfig c = small_residual(act, alpha, input_dim, 1);
        Network<double> net = clear_of_kinks(c);
        Reference ref = reference_of(c, net);
        const Index L = net.spec.depth();
        REQUIRE(L == (input_dim == 6 ? 4 : 5));

        PassResult pass;
        GradientTap tap;
        network_forward(net, pass);
        REQUIRE(pass.overflow_layer == 0);
        network_backward(net, pass, &tap);
        CHECK(rel_err(pass.loss, ref.loss_value()) < 1e-12);
        const auto loss = [&] { return ref.loss_value(); };
        double worst = 0;
        for (Index l = 1; l <= L; ++l) {
          worst = std::max(worst, worst_entry_error(ref.W[l], tap.d_W[l], loss));
          MatrixXd shift = MatrixXd::Zero(c.batch, 6);
          worst = std::max(worst, worst_entry_error(shift, tap.d_h[l], [&] { return ref.loss_value(l, &shift); }));
          CHECK(pass.layers[l - 1].grad_weight_log10 == doctest::Approx(std::log10(tap.d_W[l].norm())).epsilon(1e-12));
        }
        CHECK(worst < 1e-6);
        worst_analyze = std::max(worst_analyze, worst);

        // Each block's stream gradient: below block k >= 2 sits the previous block's last layer,
        // whose d h is alpha d loss / d s.
        REQUIRE(pass.blocks.size() == 2);
        const BlockStats& b2 = pass.blocks[1];
        CHECK(b2.grad_stream_log10 == doctest::Approx(std::log10(tap.d_h[b2.first_layer - 1].norm() / alpha)));

        Params<double> g(net.spec);
        PassResult fo;
        forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
        backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
        double worst_t = 0;
        for (Index l = 1; l <= L + 1; ++l) {
          worst_t = std::max(worst_t, worst_entry_error(ref.W[l], g.W[l], loss));
          worst_t = std::max(worst_t, worst_entry_error(ref.b[l], g.b[l], loss));
        }
        CHECK(worst_t < 1e-6);
        worst_train = std::max(worst_train, worst_t);
      }
    }
  }
  MESSAGE("residual blocks, worst relative error against central differences: analyze ", worst_analyze, ", train ",
          worst_train);
}

TEST_CASE("block records: stream RMS and branch-to-stream variance ratio from the stream itself") {
  AnalysisConfig c = small_residual("tanh", 0.3, 6, 4);
  c.batch = 7;
  Network<double> net(network_spec(c, *find_activation("tanh")));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  for (const BlockStats& b : pass.blocks) {
    const MatrixXd s = net.ws.A[b.first_layer - 1];
    const MatrixXd f = (net.ws.A[b.last_layer] - s) / 0.3;  // alpha F(s), from s' - s
    CHECK(b.stream_rms == doctest::Approx(std::sqrt(s.squaredNorm() / static_cast<double>(s.size()))));
    auto channel_var = [](const MatrixXd& m) {
      return (m.rowwise() - m.colwise().mean()).squaredNorm() / static_cast<double>(m.size());
    };
    CHECK(b.branch_ratio == doctest::Approx(0.09 * channel_var(f) / channel_var(s)).epsilon(1e-9));
  }
}

// Linear branches F(s) = W_2 W_1 s with W ~ N(0, sigma_w2 / n) and zero biases have gain
// v = sigma_w2^2: E||F s||^2 = v ||s||^2 and E<s, F s> = 0, so E||s_k||^2 = (1 + alpha^2 v)^k ||s_0||^2
// exactly (the expectation over the weights, given s_0). The mean over seeds is compared with
// it within 4 standard errors, and the test demands a standard error below 2% of the prediction
// so that it can tell a wrong exponent or a missing alpha.
TEST_CASE("residual forward variance law: E||s_L||^2 = (1 + alpha^2 v)^L ||s_0||^2") {
  for (const std::string scale : {"0.3", "invsqrt-blocks"}) {
    CAPTURE(scale);
    AnalysisConfig c = residual_config("identity", 12, 2, 256, scale);
    c.sigma_w2 = 2;  // v = 4
    const double alpha = c.residual_alpha(), v = 4;
    const double predicted = std::pow(1 + alpha * alpha * v, 6);
    double sum = 0, sum2 = 0;
    const int seeds = 48;
    for (int seed = 0; seed < seeds; ++seed) {
      c.seed = static_cast<std::uint64_t>(seed);
      Network<double> net(network_spec(c, *find_activation("identity")));
      network_draw(net);
      PassResult pass;
      network_forward(net, pass);
      const double r = net.ws.A[12].squaredNorm() / net.ws.A[0].squaredNorm();
      sum += r;
      sum2 += r * r;
    }
    const double mean = sum / seeds, se = std::sqrt((sum2 / seeds - mean * mean) / (seeds - 1));
    MESSAGE("variance law, alpha ", scale, ": measured ", mean, " +- ", se, ", predicted ", predicted, " (ratio ",
            mean / predicted, ")");
    CHECK(se < 0.02 * predicted);
    CHECK(std::abs(mean - predicted) < 4 * se);
    if (scale == "invsqrt-blocks") CHECK(predicted < std::exp(v));
  }
}

TEST_CASE("ReZero (alpha 0): every block is the identity, the stream gradient equal at every block") {
  for (Dtype dtype : {Dtype::f64, Dtype::f32}) {
    AnalysisConfig c = residual_config("tanh", 40, 2, 32, "0", 8);
    c.dtype = dtype;
    const RunResult r = run_one(c, *find_activation("tanh"));
    REQUIRE(r.pass.overflow_layer == 0);
    REQUIRE(r.pass.blocks.size() == 20);
    const double first = r.pass.blocks[0].grad_stream_log10;
    REQUIRE(std::isfinite(first));
    double spread = 0;
    for (const BlockStats& b : r.pass.blocks) spread = std::max(spread, std::abs(b.grad_stream_log10 - first));
    MESSAGE("ReZero ", dtype_name(dtype), ": largest difference of log10 |d s| between blocks ", spread);
    CHECK(spread < (dtype == Dtype::f64 ? 1e-13 : 1e-6));
    for (const LayerStats& st : r.pass.layers) CHECK(std::isnan(st.grad_weight_log10));  // exactly 0
  }
  // The input-output map is the identity: the stream leaves the last block as it entered.
  AnalysisConfig c = small_residual("tanh", 0, 6, 2);
  Network<double> net(network_spec(c, *find_activation("tanh")));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  CHECK(net.ws.A[4] == net.ws.A[0]);
}

TEST_CASE("residual runs are byte-identical for 1 and 3 threads") {
  AnalysisConfig c = residual_config("relu", 6, 3, 150, "0.5", 20);  // 150: three blocks of units, one partial
  c.dtype = Dtype::f32;
  c.input_dim = 40;  // and a projection
  std::string one;
  for (int threads : {1, 3}) {
    c.threads = threads;
    const std::string text = run_json(run_one(c, *find_activation("relu"))).dump();
    if (threads == 1) one = text;
    else CHECK(text == one);
  }
  CHECK(one.find("\"blocks\"") != std::string::npos);
}

TEST_CASE("a deep sigmoid residual net (200 blocks) stays finite and agrees between f32 and f64") {
  AnalysisConfig c = residual_config("sigmoid", 400, 2, 48);
  c.dtype = Dtype::f32;
  const RunResult r32 = run_one(c, *find_activation("sigmoid"));
  c.dtype = Dtype::f64;
  const RunResult r64 = run_one(c, *find_activation("sigmoid"));
  REQUIRE(r32.pass.overflow_layer == 0);
  REQUIRE(r64.pass.overflow_layer == 0);
  double worst = 0;
  for (std::size_t l = 0; l < r64.pass.layers.size(); ++l) {
    REQUIRE(std::isfinite(r32.pass.layers[l].grad_weight_log10));
    worst = std::max(worst, std::abs(r32.pass.layers[l].grad_weight_log10 - r64.pass.layers[l].grad_weight_log10));
  }
  MESSAGE("200 sigmoid blocks: largest |log10 |dW| f32 - f64| over 400 layers ", worst, "; first/last layer ",
          r64.pass.layers.front().grad_weight_rel_log10, " decades");
  CHECK(worst < 1e-3);
}

// alpha = 1e-60: the branches' gradients are 60 decades below the stream's. analyze carries
// alpha in its log scale, so f32 (where 1e-60 itself is 0)
// reports them as f64 does.
TEST_CASE("a tiny alpha goes into the log scale: f32 agrees with f64 60 decades down") {
  AnalysisConfig c = residual_config("tanh", 20, 2, 40, "1e-60", 12);
  c.dtype = Dtype::f32;
  const RunResult r32 = run_one(c, *find_activation("tanh"));
  c.dtype = Dtype::f64;
  const RunResult r64 = run_one(c, *find_activation("tanh"));
  double worst = 0;
  for (std::size_t l = 0; l < r64.pass.layers.size(); ++l) {
    CHECK(r64.pass.layers[l].grad_weight_log10 < -59);
    worst = std::max(worst, std::abs(r32.pass.layers[l].grad_weight_log10 - r64.pass.layers[l].grad_weight_log10));
  }
  MESSAGE("alpha 1e-60: largest |log10 |dW| f32 - f64| ", worst);
  CHECK(worst < 1e-5);
}

TEST_CASE("--jacobian through residual blocks: J against central differences of s_L, and ReZero's J = I") {
  // sigma_w2 0.01 and 16 put the branch's J far below and far above the stream's, so both ways
  // of adding them at one scale (op_residual.cc's skip_add_jacobian) run.
  for (const char* act : {"tanh", "sigmoid"}) {
    for (double alpha : {1.0, 0.3}) {
      for (Index input_dim : {6, 5}) {  // 5: a linear projection first
        for (double sigma_w2 : {0.01, 1.5, 16.0}) {
          CAPTURE(act);
          CAPTURE(alpha);
          CAPTURE(input_dim);
          CAPTURE(sigma_w2);
          AnalysisConfig c = small_residual(act, alpha, input_dim, 2);
          c.sigma_w2 = sigma_w2;
          Network<double> net(network_spec(c, *find_activation(act)));
          network_draw(net);
          PassResult pass;
          network_forward(net, pass);
          REQUIRE(pass.overflow_layer == 0);
          const Reference ref = reference_of(c, net);
          const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, 3);
          double worst = 0;
          for (Index k = 0; k < 3; ++k) {
            const MatrixXd J = js.J[static_cast<std::size_t>(k)] * std::pow(10.0, js.log10_scale[static_cast<std::size_t>(k)]);
            REQUIRE(J.rows() == 6);
            REQUIRE(J.cols() == input_dim);
            for (Index j = 0; j < input_dim; ++j) {
              for (Index i = 0; i < 6; ++i) {
                const double fd = derivative([&](double e) {
                  MatrixXd x = ref.x.row(k);
                  x(0, j) += e;
                  return ref.stream_out(x)(0, i);
                });
                worst = std::max(worst, rel_err(J(i, j), fd));
              }
            }
          }
          CHECK(worst < 1e-7);
        }
      }
    }
  }
  // ReZero at init: every block is the identity, so J = I and every singular value is 1.
  AnalysisConfig c = small_residual("tanh", 0, 6, 2);
  c.depth = 40;
  Network<double> net(network_spec(c, *find_activation("tanh")));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, pass, 3);
  for (std::size_t k = 0; k < 3; ++k)
    for (Index i = 0; i < sp.s[k].size(); ++i) CHECK(sp.s[k][i] * std::pow(10.0, sp.log10_scale[k]) == doctest::Approx(1).epsilon(1e-14));
}

// ReZero's alpha is a parameter in train (Bachlechner et al. 2020): d loss / d alpha of each
// block against central differences of the forward loss in that block's alpha, at alpha 0 (the
// init, where the branch weights get no gradient yet) and at 0.3 and -0.2 (after some steps).
TEST_CASE("ReZero's learned alpha: train's d loss / d alpha per block agrees with finite differences") {
  for (const char* act : {"tanh", "relu"}) {
    AnalysisConfig c = small_residual(act, 0, 6, 3);
    Network<double> net = clear_of_kinks(c);
    REQUIRE(net.params.alpha[2].size() == 1);  // the two blocks' skip_add layers
    REQUIRE(net.params.alpha[4].size() == 1);
    CHECK(net.params.alpha[1].size() == 0);
    for (const auto& [a2, a4] : {std::pair{0.0, 0.0}, std::pair{0.3, -0.2}}) {
      CAPTURE(act);
      CAPTURE(a2);
      net.params.alpha[2][0] = a2;
      net.params.alpha[4][0] = a4;
      Params<double> g(net.spec);
      PassResult fo;
      forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
      backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
      const auto loss = [&] {
        PassResult p;
        network_forward(net, p);
        return p.loss;
      };
      for (Index l : {2, 4}) {
        CHECK(std::abs(g.alpha[l][0]) > 1e-6);  // a gradient to check
        CHECK(worst_entry_error(net.params.alpha[l], g.alpha[l], loss) < 1e-7);
      }
      if (a2 == 0) CHECK(g.W[1].isZero(0));  // alpha 0: the branch itself learns nothing yet
    }
  }
}
