// Norms between the product and the activation (core/op_norm, --norm): gradients against finite
// differences of a reference written from the definitions, in analyze (GradientTap) and train
// (Params, gain and shift included); the normalised outputs' moments; thread independence;
// BatchNorm's gradient explosion at initialisation against Yang et al. 2019.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "normed_config.h"
#include "core/analysis.h"
#include "core/engine.h"
#include "core/run_json.h"
#include "train/optimizer.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// x = N(h) from the definitions: batch per column, layer and rms per row, biased variances.
MatrixXd reference_norm(NormKind kind, double eps, const MatrixXd& h) {
  MatrixXd x = h;
  if (kind == NormKind::batch) {
    for (Index j = 0; j < h.cols(); ++j) {
      const double mu = h.col(j).mean();
      const double var = (h.col(j).array() - mu).square().mean();
      x.col(j) = (h.col(j).array() - mu) / std::sqrt(var + eps);
    }
  } else {
    for (Index i = 0; i < h.rows(); ++i) {
      const double mu = kind == NormKind::layer ? h.row(i).mean() : 0.0;
      const double var = (h.row(i).array() - mu).square().mean();
      x.row(i) = (h.row(i).array() - mu) / std::sqrt(var + eps);
    }
  }
  return x;
}

// The plain stack with norms from its definition (f64): h = a W^T + b, u = g N(h) + beta,
// a = phi(u); a linear head; softmax cross-entropy.
struct Reference {
  std::string act;
  NormKind norm;
  double eps;
  std::vector<MatrixXd> W;  // 1..L+1, the head last
  std::vector<VectorXd> b, gain, shift;
  MatrixXd x;
  std::vector<std::uint32_t> labels;
  mutable double min_abs_u = 0;  // relu's kink must be far from every u

  // `dh` is added to h of layer shift_layer, `du` to its u (for d loss / d h and d loss / d u).
  double loss_value(Index shift_layer = 0, const MatrixXd* dh = nullptr, const MatrixXd* du = nullptr) const {
    const Index L = static_cast<Index>(W.size()) - 2;
    MatrixXd a = x;
    min_abs_u = INFINITY;
    for (Index l = 1; l <= L; ++l) {
      MatrixXd h = a * W[l].transpose();
      h.rowwise() += b[l].transpose();
      if (dh && l == shift_layer) h += *dh;
      MatrixXd u = reference_norm(norm, eps, h);
      u = (u.array().rowwise() * gain[l].transpose().array()).rowwise() + shift[l].transpose().array();
      if (du && l == shift_layer) u += *du;
      min_abs_u = std::min(min_abs_u, u.cwiseAbs().minCoeff());
      a = u.unaryExpr([&](double v) { return ref_phi(act, v); });
    }
    MatrixXd z = a * W[L + 1].transpose();
    z.rowwise() += b[L + 1].transpose();
    double total = 0;
    for (Index i = 0; i < z.rows(); ++i) total += std::log(z.row(i).array().exp().sum()) - z(i, labels[i]);
    return total / static_cast<double>(z.rows());
  }
};

Reference reference_of(const AnalysisConfig& c, const Network<double>& net) {
  Reference ref{c.activations[0], c.norm, c.norm_eps, {}, {}, {}, {}, net.ws.A[0], net.ws.labels};
  for (Index l = 0; l < net.params.layers() + 1; ++l) {
    const auto k = static_cast<std::size_t>(l);
    ref.W.push_back(net.params.W[k]);
    ref.b.push_back(net.params.b[k]);
    ref.gain.push_back(net.params.gain[k]);
    ref.shift.push_back(net.params.shift[k]);
  }
  return ref;
}

// Gains and shifts away from 1 and 0, so that a gradient mixing them up would show.
void perturb_norms(Params<double>& p) {
  for (std::size_t l = 1; l < p.gain.size(); ++l)
    for (Index j = 0; j < p.gain[l].size(); ++j) {
      p.gain[l][j] = 1 + 0.1 * static_cast<double>(j) - 0.05 * static_cast<double>(l);
      p.shift[l][j] = 0.03 * static_cast<double>(j - 2);
    }
}

// train's gradients of every parameter (W, b, and the norms' gain and shift) against central
// differences of the reference's loss: the worst relative error.
template <class Ref>
double train_gradient_error(Network<double>& net, Ref& ref) {
  Params<double> g(net.spec);
  PassResult fo;
  forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
  backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
  const auto loss = [&] { return ref.loss_value(); };
  double worst = 0;
  for (Index l = 1; l <= net.spec.depth() + 1; ++l) {
    worst = std::max(worst, worst_entry_error(ref.W[l], g.W[l], loss));
    worst = std::max(worst, worst_entry_error(ref.b[l], g.b[l], loss));
    if (g.gain[l].size() > 0) {
      worst = std::max(worst, worst_entry_error(ref.gain[l], g.gain[l], loss));
      worst = std::max(worst, worst_entry_error(ref.shift[l], g.shift[l], loss));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("gradients through batch, layer and rms norms agree with finite differences: analyze and train") {
  double worst_analyze = 0, worst_train = 0;
  for (NormKind norm : {NormKind::batch, NormKind::layer, NormKind::rms}) {
    for (const char* act : {"tanh", "relu", "gelu"}) {
      CAPTURE(norm_name(norm));
      CAPTURE(act);
      AnalysisConfig c = small_normed(act, norm, 1);
      // A draw whose u keep clear of relu's kink (central differences of 1e-4).
      Network<double> net(network_spec(c, *find_activation(act)));
      for (;; ++c.seed) {
        net = Network<double>(network_spec(c, *find_activation(act)));
        network_draw(net);
        perturb_norms(net.params);
        Reference probe = reference_of(c, net);
        probe.loss_value();
        if (probe.min_abs_u > 0.01 || c.seed > 300) break;
      }
      Reference ref = reference_of(c, net);
      const Index L = net.spec.depth();

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
        MatrixXd dh = MatrixXd::Zero(c.batch, 6);
        worst = std::max(worst, worst_entry_error(dh, tap.d_h[l], [&] { return ref.loss_value(l, &dh); }));
        CHECK(pass.layers[l - 1].grad_weight_log10 == doctest::Approx(std::log10(tap.d_W[l].norm())).epsilon(1e-12));
        // ||d loss / d u|| (the activation's input) by differences, and the ratio across the norm.
        MatrixXd du = MatrixXd::Zero(c.batch, 6);
        double du_sumsq = 0;
        const MatrixXd tap_du = MatrixXd::Zero(c.batch, 6);
        worst_entry_error(du, tap_du, [&] { return ref.loss_value(l, nullptr, &du); }, &du_sumsq);
        const LayerStats& st = pass.layers[l - 1];
        CHECK(st.grad_preact_log10 == doctest::Approx(0.5 * std::log10(du_sumsq)).epsilon(1e-8));
        CHECK(st.norm_grad_ratio_log10 == doctest::Approx(std::log10(tap.d_h[l].norm()) - st.grad_preact_log10).epsilon(1e-10));
      }
      CHECK(worst < 1e-6);
      worst_analyze = std::max(worst_analyze, worst);

      const double worst_t = train_gradient_error(net, ref);
      CHECK(worst_t < 1e-6);
      worst_train = std::max(worst_train, worst_t);
    }
  }
  MESSAGE("norms, worst relative error against central differences: analyze ", worst_analyze, ", train ",
          worst_train);
}

TEST_CASE("normalised outputs: LayerNorm per-sample mean 0 and variance v / (v + eps); BatchNorm per unit") {
  for (NormKind norm : {NormKind::layer, NormKind::batch, NormKind::rms}) {
    for (double eps : {1e-5, 0.5}) {
      CAPTURE(norm_name(norm));
      CAPTURE(eps);
      AnalysisConfig c;
      c.activations = {"identity"};  // with gain 1 and shift 0, A[l] = N(h_l)
      c.depth = 2;
      c.width = {64};
      c.batch = 32;
      c.sigma_b2 = 0.5;
      c.norm = norm;
      c.norm_eps = eps;
      c.dtype = Dtype::f64;
      c.threads = 1;
      Network<double> net(network_spec(c, *find_activation("identity")));
      network_draw(net);
      PassResult pass;
      network_forward(net, pass);
      for (Index l = 1; l <= 2; ++l) {
        MatrixXd h = net.ws.A[l - 1] * net.params.W[l].transpose();
        h.rowwise() += net.params.b[l].transpose();
        const MatrixXd& x = net.ws.A[l];
        const bool per_sample = norm != NormKind::batch;
        const Index groups = per_sample ? h.rows() : h.cols();
        double worst_mean = 0, worst_var = 0;
        for (Index k = 0; k < groups; ++k) {
          const VectorXd hk = per_sample ? VectorXd(h.row(k).transpose()) : VectorXd(h.col(k));
          const VectorXd xk = per_sample ? VectorXd(x.row(k).transpose()) : VectorXd(x.col(k));
          const double mu = norm == NormKind::rms ? 0.0 : hk.mean();
          const double v = (hk.array() - mu).square().mean();
          const double second = norm == NormKind::rms ? xk.array().square().mean()
                                                      : (xk.array() - xk.mean()).square().mean();
          if (norm != NormKind::rms) worst_mean = std::max(worst_mean, std::abs(xk.mean()));
          worst_var = std::max(worst_var, std::abs(second - v / (v + eps)));
        }
        CHECK(worst_mean < 1e-13);
        CHECK(worst_var < 1e-12);
      }
    }
  }
}

TEST_CASE("normed runs are byte-identical for 1 and 3 threads") {
  for (NormKind norm : {NormKind::batch, NormKind::layer, NormKind::rms}) {
    AnalysisConfig c;
    c.activations = {"relu"};
    c.depth = 4;
    c.width = {150};  // three blocks of units, one partial
    c.batch = 150;    // and three blocks of samples
    c.norm = norm;
    std::string one;
    for (int threads : {1, 3}) {
      c.threads = threads;
      const std::string text = run_json(run_one(c, *find_activation("relu"))).dump();
      if (threads == 1) one = text;
      else CHECK(text == one);
    }
    CHECK(one.find("norm_grad_ratio_log10") != std::string::npos);
    for (NormPosition position : {NormPosition::pre, NormPosition::post}) {  // and in residual blocks
      c.residual = 2;
      c.norm_position = position;
      std::string first;
      for (int threads : {1, 3}) {
        c.threads = threads;
        const std::string text = run_json(run_one(c, *find_activation("relu"))).dump();
        if (threads == 1) first = text;
        else CHECK(text == first);
      }
      c.residual = 0;
    }
  }
}

namespace {

// A residual net with norms from its definition (f64): blocks of two dense layers (phi after the
// first), pre-norm s' = s + alpha F(g N(s) + beta), post-norm s' = g N(s + alpha F(s)) + beta; a
// linear head; xent.
struct ResidualReference {
  std::string act;
  NormKind norm;
  NormPosition position;
  double eps, alpha;
  std::vector<MatrixXd> W;  // 1..L+1
  std::vector<VectorXd> b, gain, shift;
  MatrixXd x;
  std::vector<std::uint32_t> labels;
  mutable double min_abs_h = 0;

  MatrixXd affine_norm(Index l, const MatrixXd& h) const {
    const MatrixXd n = reference_norm(norm, eps, h);
    return (n.array().rowwise() * gain[l].transpose().array()).rowwise() + shift[l].transpose().array();
  }

  double loss_value() const {
    const Index L = static_cast<Index>(W.size()) - 2;
    MatrixXd s = x;
    min_abs_h = INFINITY;
    for (Index l = 1; l < L; l += 2) {
      const MatrixXd in = position == NormPosition::pre ? affine_norm(l, s) : s;
      MatrixXd h = in * W[l].transpose();
      h.rowwise() += b[l].transpose();
      min_abs_h = std::min(min_abs_h, h.cwiseAbs().minCoeff());
      MatrixXd f = MatrixXd(h.unaryExpr([&](double v) { return ref_phi(act, v); })) * W[l + 1].transpose();
      f.rowwise() += b[l + 1].transpose();
      s += alpha * f;
      if (position == NormPosition::post) s = affine_norm(l + 1, s);
    }
    MatrixXd z = s * W[L + 1].transpose();
    z.rowwise() += b[L + 1].transpose();
    double total = 0;
    for (Index i = 0; i < z.rows(); ++i) total += std::log(z.row(i).array().exp().sum()) - z(i, labels[i]);
    return total / static_cast<double>(z.rows());
  }
};

}  // namespace

TEST_CASE("residual nets with pre- and post-norms: gradients against finite differences, analyze and train") {
  double worst_analyze = 0, worst_train = 0;
  for (NormPosition position : {NormPosition::pre, NormPosition::post}) {
    for (NormKind norm : {NormKind::batch, NormKind::layer, NormKind::rms}) {
      for (const char* act : {"tanh", "relu"}) {
        CAPTURE(norm_position_name(position));
        CAPTURE(norm_name(norm));
        CAPTURE(act);
        AnalysisConfig c = small_normed(act, norm, 1);
        c.depth = 4;
        c.residual = 2;
        c.residual_scale = "0.7";
        c.input_dim = 6;
        c.norm_position = position;
        Network<double> net(network_spec(c, *find_activation(act)));
        ResidualReference ref;
        for (;; ++c.seed) {
          net = Network<double>(network_spec(c, *find_activation(act)));
          network_draw(net);
          perturb_norms(net.params);
          ref = ResidualReference{act, norm, position, c.norm_eps, 0.7, {}, {}, {}, {}, net.ws.A[0], net.ws.labels};
          for (Index l = 0; l < net.params.layers() + 1; ++l) {
            const auto k = static_cast<std::size_t>(l);
            ref.W.push_back(net.params.W[k]);
            ref.b.push_back(net.params.b[k]);
            ref.gain.push_back(net.params.gain[k]);
            ref.shift.push_back(net.params.shift[k]);
          }
          ref.loss_value();
          if (ref.min_abs_h > 0.01 || c.seed > 300) break;
        }
        // Which ops carry the norm: branch_in (layers 1, 3) for pre, skip_add (2, 4) for post.
        const Index first_normed = position == NormPosition::pre ? 1 : 2;
        REQUIRE(net.params.gain[first_normed].size() == 6);
        REQUIRE(net.params.gain[3 - first_normed].size() == 0);

        PassResult pass;
        GradientTap tap;
        network_forward(net, pass);
        REQUIRE(pass.overflow_layer == 0);
        network_backward(net, pass, &tap);
        CHECK(rel_err(pass.loss, ref.loss_value()) < 1e-12);
        const auto loss = [&] { return ref.loss_value(); };
        double worst = 0;
        for (Index l = 1; l <= 4; ++l) {
          worst = std::max(worst, worst_entry_error(ref.W[l], tap.d_W[l], loss));
          // the ratio across the norm sits on the normed layers' rows only
          CHECK(std::isfinite(pass.layers[l - 1].norm_grad_ratio_log10) == (net.params.gain[l].size() > 0));
        }
        CHECK(worst < 1e-6);
        worst_analyze = std::max(worst_analyze, worst);

        const double worst_t = train_gradient_error(net, ref);
        CHECK(worst_t < 1e-6);
        worst_train = std::max(worst_train, worst_t);
      }
    }
  }
  MESSAGE("residual nets with norms, worst relative error against central differences: analyze ", worst_analyze,
          ", train ", worst_train);
}

// Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture": with Post-LN the
// gradient of the layers near the output is large next to the first layers', and more so the
// deeper the net; with Pre-LN it is about the same at every layer. In a residual MLP the size of
// the effect depends on the branch: each post-norm divides the backward gradient by the
// stream's growth sqrt(1 + v) (v the branch's forward gain), while the branch adds chi (its
// backward gain) to the identity's 1, so it decays towards the input by sqrt((1 + chi) / (1 + v))
// per block. relu branches have chi = v (no effect); sigmoid's (outputs not zero-centred:
// v far above chi) show it clearly, so the test uses sigmoid.
// The measured exponent: the slope of log10 (||d W_L|| / ||d W_1||) over the number of layers.
TEST_CASE("Post-LN vs Pre-LN: last/first gradient ratio grows with depth for Post-LN, stays bounded for Pre-LN") {
  AnalysisConfig c;
  c.activations = {"sigmoid"};
  c.residual = 2;
  c.width = {128};
  c.batch = 32;
  c.norm = NormKind::layer;
  c.threads = 2;
  std::vector<double> post, pre;
  const std::vector<Index> depths = {8, 16, 32, 64, 128};
  for (NormPosition position : {NormPosition::post, NormPosition::pre}) {
    c.norm_position = position;
    for (Index d : depths) {
      c.depth = d;
      const RunResult r = run_one(c, *find_activation("sigmoid"));
      REQUIRE(r.pass.overflow_layer == 0);
      const double ratio = r.pass.layers.back().grad_weight_log10 - r.pass.layers.front().grad_weight_log10;
      (position == NormPosition::post ? post : pre).push_back(ratio);
    }
  }
  const double post_exponent = (post.back() - post.front()) / static_cast<double>(depths.back() - depths.front());
  const double pre_exponent = (pre.back() - pre.front()) / static_cast<double>(depths.back() - depths.front());
  MESSAGE("log10 (last / first layer gradient) at depth 8..128: Post-LN ", post[0], " ", post[1], " ", post[2], " ",
          post[3], " ", post[4], "; Pre-LN ", pre[0], " ", pre[1], " ", pre[2], " ", pre[3], " ", pre[4]);
  MESSAGE("exponent (decades per layer): Post-LN ", post_exponent, ", Pre-LN ", pre_exponent);
  for (std::size_t i = 1; i < post.size(); ++i) CHECK(post[i] > post[i - 1]);  // grows with every doubling
  CHECK(post_exponent > 0.01);   // the ratio grows as 10^(exponent x depth)
  CHECK(post.back() > 2);
  for (double r : pre) CHECK(std::abs(r) < 1.5);  // bounded: within 1.5 decades at every depth
  CHECK(std::abs(pre_exponent) < 0.2 * post_exponent);
}

TEST_CASE("train: the optimizer learns the norms' gain and shift (sgd: minus lr times their gradients)") {
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam}) {
    AnalysisConfig c = small_normed("tanh", NormKind::layer, 2);
    Network<double> net(network_spec(c, *find_activation("tanh")));
    network_draw(net);
    Params<double> g(net.spec);
    PassResult fo;
    forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
    backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false), fo);
    const Params<double> before = net.params;
    OptimizerConfig oc;
    oc.kind = kind;
    oc.lr = 0.1;
    Optimizer<double> opt(oc, net.spec);
    opt.step(net.params, g);
    for (Index l = 1; l <= 3; ++l) {
      REQUIRE(g.gain[l].norm() > 0);
      if (kind == OptimizerKind::sgd) {
        CHECK((net.params.gain[l] - (before.gain[l] - 0.1 * g.gain[l])).norm() < 1e-15);
        CHECK((net.params.shift[l] - (before.shift[l] - 0.1 * g.shift[l])).norm() < 1e-15);
      } else {  // adam's first step moves every entry with a non-zero gradient by about lr
        CHECK((net.params.gain[l] - before.gain[l]).cwiseAbs().maxCoeff() == doctest::Approx(0.1).epsilon(1e-3));
      }
    }
  }
}

// Exactness at depth: BatchNorm's explosion over 1000 relu layers takes the gradient some 90
// decades up, more than f32's whole range (76 decades): only the renormalised backward keeps
// every figure. The net is chaotic (the very explosion amplifies f32's rounding of the forward
// pass by as much), so f32 and f64 compute different activations deep down and agree only in
// law: every f32 figure finite, the same total rise.
TEST_CASE("a 1000-layer BatchNorm relu stack: f32 stays finite and rises as f64 does over 90 decades") {
  AnalysisConfig c;
  c.activations = {"relu"};
  c.depth = 1000;
  c.width = {48};
  c.batch = 32;
  c.norm = NormKind::batch;
  c.threads = 1;
  double span[2] = {};
  for (Dtype dtype : {Dtype::f32, Dtype::f64}) {
    c.dtype = dtype;
    const RunResult r = run_one(c, *find_activation("relu"));
    REQUIRE(r.pass.overflow_layer == 0);
    REQUIRE(r.pass.inexact_layer == 0);
    for (const LayerStats& st : r.pass.layers) REQUIRE(std::isfinite(st.grad_weight_log10));
    span[dtype == Dtype::f64] = r.pass.layers.front().grad_weight_log10 - r.pass.layers.back().grad_weight_log10;
  }
  MESSAGE("1000 BatchNorm relu layers: layer 1's gradient ", span[0], " (f32) and ", span[1],
          " (f64) decades above layer 1000's");
  CHECK(span[1] > 80);
  CHECK(std::abs(span[0] / span[1] - 1) < 0.05);
}
