// The training gradient (every W and b, head included) against central differences of an
// independent reference forward pass (plain Eigen in f64, activations from closed forms), for
// every activation and both trainable losses; and its independence of the thread count.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "core/engine.h"
#include "core/enum_names.h"
#include "core/stats.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

struct Reference {
  std::vector<std::string> acts;  // phi of each hidden layer
  LossKind loss;
  std::vector<MatrixXd> W;  // 1..L+1, L+1 the head
  std::vector<VectorXd> b;
  MatrixXd x;
  std::vector<std::uint32_t> y;

  double loss_value() const {
    MatrixXd a = x;
    const std::size_t head = W.size() - 1;
    for (std::size_t l = 1; l <= head; ++l) {
      MatrixXd h = a * W[l].transpose();
      h.rowwise() += b[l].transpose();
      a = l == head ? h : MatrixXd(h.unaryExpr([&](double v) { return ref_phi(acts[l - 1], v); }));
    }
    double total = 0;
    for (Index i = 0; i < a.rows(); ++i) {
      if (loss == LossKind::xent) {
        total += std::log(a.row(i).array().exp().sum()) - a(i, y[i]);
      } else {
        VectorXd t = VectorXd::Zero(a.cols());
        t[y[i]] = 1;
        total += 0.5 * (a.row(i).transpose() - t).squaredNorm();
      }
    }
    return total / static_cast<double>(a.rows());
  }

  // The smallest |h| of any hidden unit-sample: finite differences are only valid away from
  // the kinks of relu-like activations at 0.
  double min_abs_preact() const {
    MatrixXd a = x;
    double m = INFINITY;
    for (std::size_t l = 1; l + 1 < W.size(); ++l) {
      MatrixXd h = a * W[l].transpose();
      h.rowwise() += b[l].transpose();
      m = std::min(m, h.cwiseAbs().minCoeff());
      a = h.unaryExpr([&](double v) { return ref_phi(acts[l - 1], v); });
    }
    return m;
  }
};

// The largest relative error of g's W and b, every entry of layers 1..4, against central
// differences of ref's loss; adds each layer's || d loss / d W_l ||^2 by differences to fd_sumsq.
double worst_param_error(Reference& ref, const Params<double>& g, std::vector<double>& fd_sumsq) {
  fd_sumsq.assign(4, 0.0);
  double worst = 0;
  for (int l = 1; l <= 4; ++l) {
    const auto loss = [&] { return ref.loss_value(); };
    worst = std::max(worst, worst_entry_error(ref.W[l], g.W[l], loss, &fd_sumsq[static_cast<std::size_t>(l - 1)]));
    worst = std::max(worst, worst_entry_error(ref.b[l], g.b[l], loss));
  }
  return worst;
}

NetworkSpec tiny_spec(const Activation& act, LossKind loss, Index width, Index batch) {
  NetworkSpec s;
  s.input_width = 5;
  s.ops = plain_stack({width, width, width}, act, kLeak, 4);
  s.batch = batch;
  s.loss = loss;
  s.weight_init.label = "sigma_w2=1.5";
  s.weight_init.sigma_w2 = 1.5;
  s.bias_init.sigma_b2 = 0.1;
  s.seed = 3;
  return s;
}

// Random data for the tiny net, from the project's generator.
void fill_batch(Workspace<double>& ws, Index classes, std::uint64_t seed) {
  fill_normal<double>({seed, Stream::input, 0}, 0, ws.A[0].data(), static_cast<std::size_t>(ws.A[0].size()));
  Mat<double> x = ws.A[0];
  std::vector<std::uint32_t> y(static_cast<std::size_t>(ws.batch)), rows(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] = static_cast<std::uint32_t>(i % static_cast<std::size_t>(classes));
    rows[i] = static_cast<std::uint32_t>(i);
  }
  ws.load(x, y, rows.data());
}

}  // namespace

TEST_CASE("training gradients of every W and b agree with finite differences, every activation x loss") {
  for (LossKind loss : {LossKind::xent, LossKind::mse}) {
    for (const Activation& act : activations()) {
      CAPTURE(act.name);
      CAPTURE(loss_name(loss));
      const NetworkSpec s = tiny_spec(act, loss, 6, 3);
      Params<double> p = initial_params<double>(s);
      p.b[4].setConstant(0.2);  // a non-zero head bias exercises its path
      Workspace<double> ws(s, 3, 0);
      Reference ref{std::vector<std::string>(3, std::string(act.name)), loss, {}, {}, {}, {}};
      ref.W.resize(5);
      ref.b.resize(5);
      for (int l = 1; l <= 4; ++l) {
        ref.W[l] = p.W[l];
        ref.b[l] = p.b[l];
      }
      // The first data seed whose pre-activations all keep clear of 0 by 4 times the largest
      // change a perturbation makes (2 x 1e-4 times an input of at most ~6).
      std::uint64_t data_seed = 11;
      for (; data_seed < 111; ++data_seed) {
        fill_batch(ws, s.classes(), data_seed);
        ref.x = ws.A[0];
        ref.y = ws.labels;
        if (ref.min_abs_preact() > 0.01) break;
      }
      REQUIRE(data_seed < 111);
      Params<double> g(s);
      PassResult fo;
      forward_pass(s, p, ws, train_policy(1, g, true), fo);
      REQUIRE(fo.overflow_layer == 0);
      backward_pass(s, p, ws, train_policy(1, g, true), fo);
      CHECK(rel_err(fo.loss, ref.loss_value()) < 1e-12);

      std::vector<double> fd_sumsq;
      const double worst = worst_param_error(ref, g, fd_sumsq);
      CHECK(worst < 1e-6);
    }
  }
}

TEST_CASE("per-layer activations (tanh, relu, sigmoid): train's gradients and analyze's statistics per layer") {
  // The spec's ops carry each layer's activation; no flag sets them yet (issue 16's --arch will).
  const std::vector<std::string> names = {"tanh", "relu", "sigmoid"};
  const double max_slope[] = {1.0, 1.0, 0.25};  // textbook: tanh'(0), relu' for x > 0, sigmoid'(0)
  NetworkSpec s = tiny_spec(*find_activation("tanh"), LossKind::xent, 6, 8);
  for (std::size_t i = 0; i < names.size(); ++i) s.ops[i].activation = find_activation(names[i]);
  s.sat_eps = 0.8;  // tanh saturated for |h| > 0.48, sigmoid for |h| > 0.96: both occur here
  Network<double> net(s);
  network_draw(net);
  Reference ref{names, LossKind::xent, {}, {}, {}, {}};
  ref.W.resize(5);
  ref.b.resize(5);
  for (int l = 1; l <= 4; ++l) {
    ref.W[l] = net.params.W[l];
    ref.b[l] = net.params.b[l];
  }
  std::uint64_t data_seed = 11;  // pre-activations clear of relu's kink (see above)
  for (; data_seed < 211; ++data_seed) {
    fill_batch(net.ws, s.classes(), data_seed);
    ref.x = net.ws.A[0];
    ref.y = net.ws.labels;
    if (ref.min_abs_preact() > 0.01) break;
  }
  REQUIRE(data_seed < 211);

  // train: every entry of every d W and d b against central differences.
  Workspace<double> ws(s, 8, 0);
  fill_batch(ws, s.classes(), data_seed);
  Params<double> g(s);
  PassResult fo;
  forward_pass(s, net.params, ws, train_policy(1, g, true), fo);
  REQUIRE(fo.overflow_layer == 0);
  backward_pass(s, net.params, ws, train_policy(1, g, true), fo);
  CHECK(rel_err(fo.loss, ref.loss_value()) < 1e-12);
  std::vector<double> fd_sumsq;  // || d loss / d W_l ||^2 by finite differences
  const double worst = worst_param_error(ref, g, fd_sumsq);
  MESSAGE("mixed tanh/relu/sigmoid, train policy: worst relative error of d W, d b against central differences ",
          worst);
  CHECK(worst < 1e-6);

  // analyze: each layer's statistics with its own activation, against the reference forward.
  PassResult r;
  network_forward(net, r);
  REQUIRE(r.overflow_layer == 0);
  network_backward(net, r);
  MatrixXd a = ref.x;
  for (std::size_t k = 0; k < names.size(); ++k) {
    CAPTURE(names[k]);
    const LayerStats& st = r.layers[k];
    MatrixXd h = a * ref.W[k + 1].transpose();
    h.rowwise() += ref.b[k + 1].transpose();
    const Closed& phi = closed_forms().at(names[k]);
    a = h.unaryExpr(phi.f);
    const double pairs = static_cast<double>(h.size());
    double saturated = 0, inactive = 0;
    for (Index i = 0; i < h.size(); ++i) {
      saturated += std::abs(phi.df(h.data()[i])) < s.sat_eps * max_slope[k];
      inactive += names[k] == "relu" && h.data()[i] <= 0;
    }
    CHECK(rel_err(st.act_mean, a.mean()) < 1e-12);
    CHECK(st.saturated_frac == saturated / pairs);
    CHECK(st.inactive_frac == inactive / pairs);
    if (names[k] != "relu") CHECK(saturated > 0);  // the test can tell one threshold from another
    if (names[k] == "relu") CHECK(inactive > 0);
    const double expected = 0.5 * std::log10(fd_sumsq[k]);
    CHECK(std::abs(st.grad_weight_log10 - expected) < 1e-6);
  }
}

TEST_CASE("training forward, backward and errors are identical for any thread count") {
  for (const char* name : {"tanh", "relu"}) {
    const NetworkSpec s = tiny_spec(*find_activation(name), LossKind::xent, 150, 7);  // three blocks, one partial
    const Params<double> p = initial_params<double>(s);
    Workspace<double> ws1(s, 7, 0), ws2(s, 7, 0);
    fill_batch(ws1, s.classes(), 5);
    fill_batch(ws2, s.classes(), 5);
    Params<double> g1(s), g2(s);
    PassResult f1, f2;
    forward_pass(s, p, ws1, train_policy(1, g1, true), f1);
    forward_pass(s, p, ws2, train_policy(3, g2, true), f2);
    CHECK(f1.loss == f2.loss);
    backward_pass(s, p, ws1, train_policy(1, g1, true), f1);
    backward_pass(s, p, ws2, train_policy(3, g2, true), f2);
    for (int l = 1; l <= 4; ++l) {
      CHECK(g1.W[l] == g2.W[l]);
      CHECK(g1.b[l] == g2.b[l]);
      if (l <= 3) CHECK(f1.layers[l - 1].dw_sign_coherence == f2.layers[l - 1].dw_sign_coherence);
    }
    CHECK(count_errors(ws1) == count_errors(ws2));
  }
}

TEST_CASE("count_errors counts samples whose largest logit is not their label") {
  const NetworkSpec s = tiny_spec(*find_activation("tanh"), LossKind::xent, 6, 3);
  Workspace<double> ws(s, 3, 0);
  ws.Z << 1, 2, 0, 0,   // argmax 1
      5, 0, 0, 0,       // argmax 0
      0, 0, 0, 3;       // argmax 3
  ws.labels = {1, 2, 3};
  CHECK(count_errors(ws) == 1);
}
