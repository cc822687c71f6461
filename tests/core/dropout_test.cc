// --dropout (core/dropout): gradients against finite differences with the mask held fixed
// (analyze and train, plain stacks against a reference written from the definition whose mask
// is drawn from Philox directly, residual and normed nets against differences of the engine's
// own forward); the fraction dropped against binomial bounds; thread, weights-mode and
// p = 0 invariance; training's fresh mask per step and none for evaluation.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "residual_config.h"
#include "core/analysis.h"
#include "core/dropout.h"
#include "core/engine.h"
#include "core/rng.h"
#include "core/run_json.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// m / (1 - p) of unit j of sample r at `step` in layer l, from rng.h's definition of a draw:
// word i % 4 of philox({lo32(i / 4), hi32(i / 4), layer, stream}, {lo32(seed), hi32(seed)}).
double reference_mask(std::uint64_t seed, Index l, std::uint64_t step, Index B, Index n, Index r, Index j, double p) {
  const std::uint64_t i = (step * static_cast<std::uint64_t>(B) + static_cast<std::uint64_t>(r)) *
                              static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(j);
  const std::uint64_t c = i / 4;
  const PhiloxCounter out = philox4x32_10(
      {static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32), static_cast<std::uint32_t>(l),
       static_cast<std::uint32_t>(Stream::dropout)},
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  const double word = out[i % 4];
  return word >= std::ldexp(p, 32) ? 1 / (1 - p) : 0.0;
}

// The plain stack with dropout from its definition (f64): h = a W^T + b, a = phi(h) m / (1 - p),
// a linear head, softmax cross-entropy.
struct Reference {
  std::string act;
  double p;
  std::uint64_t seed, step;
  std::vector<MatrixXd> W;  // 1..L+1, the head last
  std::vector<VectorXd> b;
  MatrixXd x;
  std::vector<std::uint32_t> labels;
  mutable double min_abs_h = 0;  // relu's kink must be far from every h
  mutable Index dropped = 0, units = 0;

  double loss_value(Index shift_layer = 0, const MatrixXd* dh = nullptr) const {
    const Index L = static_cast<Index>(W.size()) - 2;
    MatrixXd a = x;
    min_abs_h = INFINITY;
    dropped = units = 0;
    for (Index l = 1; l <= L; ++l) {
      MatrixXd h = a * W[l].transpose();
      h.rowwise() += b[l].transpose();
      if (dh && l == shift_layer) h += *dh;
      min_abs_h = std::min(min_abs_h, h.cwiseAbs().minCoeff());
      a = h.unaryExpr([&](double v) { return ref_phi(act, v); });
      for (Index r = 0; r < a.rows(); ++r)
        for (Index j = 0; j < a.cols(); ++j) {
          const double m = reference_mask(seed, l, step, a.rows(), a.cols(), r, j, p);
          a(r, j) *= m;
          dropped += m == 0;
          ++units;
        }
    }
    MatrixXd z = a * W[L + 1].transpose();
    z.rowwise() += b[L + 1].transpose();
    double total = 0;
    for (Index i = 0; i < z.rows(); ++i) total += std::log(z.row(i).array().exp().sum()) - z(i, labels[i]);
    return total / static_cast<double>(z.rows());
  }
};

AnalysisConfig small_dropout(const std::string& act, double p, std::uint64_t seed) {
  AnalysisConfig c;
  c.activations = {act};
  c.depth = 3;
  c.width = {7, 6, 5};  // mixed widths: the mask's index runs over each layer's own width
  c.input_dim = 5;
  c.batch = 6;
  c.classes = 4;
  c.sigma_b2 = 0.1;
  c.dropout = p;
  c.dtype = Dtype::f64;
  c.threads = 1;
  c.seed = seed;
  return c;
}

Reference reference_of(const AnalysisConfig& c, const Network<double>& net, std::uint64_t step) {
  Reference ref{c.activations[0], c.dropout, c.seed, step, {}, {}, net.ws.A[0], net.ws.labels};
  for (Index l = 0; l < net.params.layers() + 1; ++l) {
    ref.W.push_back(net.params.W[static_cast<std::size_t>(l)]);
    ref.b.push_back(net.params.b[static_cast<std::size_t>(l)]);
  }
  return ref;
}

// The engine's own loss with the parameters as they are (the mask is fixed by seed and step).
double engine_loss(Network<double>& net, const PassPolicy<double>& policy) {
  PassResult fo;
  forward_pass(net.spec, net.params, net.ws, policy, fo);
  return fo.loss;
}

}  // namespace

TEST_CASE("dropout: gradients with a fixed mask agree with finite differences of the definition, analyze and train") {
  double worst_analyze = 0, worst_train = 0;
  for (const char* act : {"tanh", "relu", "gelu"}) {
    CAPTURE(act);
    AnalysisConfig c = small_dropout(act, 0.3, 1);
    Network<double> net(network_spec(c, *find_activation(act)));
    for (;; ++c.seed) {  // a draw whose h keep clear of relu's kink
      net = Network<double>(network_spec(c, *find_activation(act)));
      network_draw(net);
      Reference probe = reference_of(c, net, 0);
      probe.loss_value();
      if (probe.min_abs_h > 0.01 || c.seed > 300) break;
    }
    const Index L = net.spec.depth();
    for (const std::uint64_t step : {std::uint64_t{0}, std::uint64_t{3}}) {  // analyze's mask, train's at step 3
      Reference ref = reference_of(c, net, step);
      const double ref_loss = ref.loss_value();
      CHECK(ref.dropped > 0);  // the mask does drop units here
      CHECK(ref.dropped < ref.units);
      const auto loss = [&] { return ref.loss_value(); };
      if (step == 0) {
        PassResult pass;
        GradientTap tap;
        network_forward(net, pass);
        REQUIRE(pass.overflow_layer == 0);
        network_backward(net, pass, &tap);
        CHECK(rel_err(pass.loss, ref_loss) < 1e-12);
        double worst = 0;
        for (Index l = 1; l <= L; ++l) {
          worst = std::max(worst, worst_entry_error(ref.W[l], tap.d_W[l], loss));
          MatrixXd dh = MatrixXd::Zero(c.batch, net.spec.width(l));
          worst = std::max(worst, worst_entry_error(dh, tap.d_h[l], [&] { return ref.loss_value(l, &dh); }));
          CHECK(pass.layers[l - 1].grad_weight_log10 ==
                doctest::Approx(std::log10(tap.d_W[l].norm())).epsilon(1e-12));
        }
        CHECK(worst < 1e-6);
        worst_analyze = std::max(worst_analyze, worst);
      } else {
        Params<double> g(net.spec);
        PassResult fo;
        forward_pass(net.spec, net.params, net.ws, train_policy(1, g, false, step), fo);
        CHECK(rel_err(fo.loss, ref_loss) < 1e-12);
        backward_pass(net.spec, net.params, net.ws, train_policy(1, g, false, step), fo);
        double worst = 0;
        for (Index l = 1; l <= L + 1; ++l) {
          worst = std::max(worst, worst_entry_error(ref.W[l], g.W[l], loss));
          worst = std::max(worst, worst_entry_error(ref.b[l], g.b[l], loss));
        }
        CHECK(worst < 1e-6);
        worst_train = std::max(worst_train, worst);
      }
    }
  }
  MESSAGE("dropout 0.3, worst relative error against central differences: analyze ", worst_analyze, ", train ",
          worst_train);
}

TEST_CASE("dropout in residual and normed nets: train's gradients against differences of the forward pass") {
  double worst_all = 0;
  struct Case {
    const char* what;
    Index K;
    NormKind norm;
    NormPosition position;
  };
  for (const Case& k : {Case{"residual K=2", 2, NormKind::none, NormPosition::pre},
                        Case{"residual K=3, pre-LN", 3, NormKind::layer, NormPosition::pre},
                        Case{"residual K=2, post-LN", 2, NormKind::layer, NormPosition::post},
                        Case{"plain, BatchNorm", 0, NormKind::batch, NormPosition::pre}}) {
    CAPTURE(k.what);
    AnalysisConfig c = residual_config("tanh", k.K == 3 ? 6 : 4, k.K, 6, "0.7", 5);
    c.input_dim = 4;  // a projection first in the residual nets (no dropout on it)
    c.classes = 3;
    c.norm = k.norm;
    c.norm_position = k.position;
    c.dropout = 0.25;
    c.sigma_b2 = 0.1;
    Network<double> net(network_spec(c, *find_activation("tanh")));
    network_draw(net);
    bool any = false;
    for (Index l = 1; l <= net.spec.depth(); ++l) any = any || net.spec.op(l).dropout > 0;
    CHECK(any);
    Params<double> g(net.spec);
    const PassPolicy<double> policy = train_policy(1, g, false, 2);
    PassResult fo;
    forward_pass(net.spec, net.params, net.ws, policy, fo);
    backward_pass(net.spec, net.params, net.ws, policy, fo);
    Params<double> g2(net.spec);  // forward only; its gradients are never read
    const PassPolicy<double> forward_only = train_policy(1, g2, false, 2);
    const auto loss = [&] { return engine_loss(net, forward_only); };
    double worst = 0;
    for (Index l = 1; l <= net.spec.depth() + 1; ++l) {
      const auto k_l = static_cast<std::size_t>(l);
      worst = std::max(worst, worst_entry_error(net.params.W[k_l], g.W[k_l], loss));
      worst = std::max(worst, worst_entry_error(net.params.b[k_l], g.b[k_l], loss));
      if (g.gain[k_l].size() > 0) worst = std::max(worst, worst_entry_error(net.params.gain[k_l], g.gain[k_l], loss));
    }
    CHECK(worst < 1e-6);
    worst_all = std::max(worst_all, worst);
  }
  MESSAGE("dropout 0.25 in residual/normed nets, train, worst relative error: ", worst_all);
}

TEST_CASE("dropout: the fraction dropped is within binomial bounds, and the kept units are scaled by 1/(1-p)") {
  for (const double p : {0.1, 0.5, 0.9}) {
    CAPTURE(p);
    AnalysisConfig c;
    c.activations = {"identity"};  // slope 1: D[l] is the mask itself
    c.depth = 3;
    c.width = {200};
    c.batch = 100;
    c.dropout = p;
    c.dtype = Dtype::f64;
    c.threads = 1;
    double zeros = 0, total = 0, bad = 0;
    for (c.seed = 0; c.seed < 4; ++c.seed) {
      Network<double> net(network_spec(c, *find_activation("identity")));
      network_draw(net);
      PassResult pass;
      network_forward(net, pass);
      for (Index l = 1; l <= 3; ++l)
        for (Index i = 0; i < net.ws.D[l].size(); ++i) {
          const double d = net.ws.D[l].data()[i];
          zeros += d == 0;
          bad += d != 0 && std::abs(d - 1 / (1 - p)) > 1e-15;
          ++total;
        }
    }
    CHECK(bad == 0);
    const double sd = std::sqrt(p * (1 - p) / total);  // 4 seeds x 60000 units: sd about 0.001
    CHECK(std::abs(zeros / total - p) < 5 * sd);
    MESSAGE("p ", p, ": dropped ", zeros / total, " of ", total, " (5 sd = ", 5 * sd, ")");
  }
}

TEST_CASE("dropout: byte-identical JSON for 1 and 3 threads and for stored and regenerated weights") {
  for (const Index K : {Index{0}, Index{2}}) {
    AnalysisConfig c;
    c.activations = {"relu"};
    c.depth = 4;
    c.width = {150};  // three blocks of units, one partial
    c.batch = 70;
    c.residual = K;
    c.dropout = 0.4;
    std::string one;
    for (int threads : {1, 3})
      for (WeightsMode mode : {WeightsMode::store, WeightsMode::regenerate}) {
        c.threads = threads;
        c.weights = mode;
        const std::string text = run_json(run_one(c, *find_activation("relu"))).dump();
        if (one.empty()) one = text;
        else CHECK(text == one);
      }
    c.dropout = 0;  // the mask changes the run (p = 0 against the goldens: make_golden.sh)
    CHECK(run_json(run_one(c, *find_activation("relu"))).dump() != one);
  }
}

TEST_CASE("dropout in train: each step its own mask, evaluation passes none") {
  AnalysisConfig c = small_dropout("tanh", 0.5, 4);
  Network<double> net(network_spec(c, *find_activation("tanh")));
  network_draw(net);
  Params<double> g(net.spec);
  const double eval = engine_loss(net, train_policy(1, g, false, 0));
  PassResult plain;
  AnalysisConfig without = c;
  without.dropout = 0;
  Network<double> ref(network_spec(without, *find_activation("tanh")));
  network_draw(ref);
  CHECK(eval == engine_loss(ref, train_policy(1, g, false, 0)));  // evaluation: no mask
  const double s1 = engine_loss(net, train_policy(1, g, false, 1));
  const double s2 = engine_loss(net, train_policy(1, g, false, 2));
  CHECK(s1 != eval);
  CHECK(s1 != s2);
  CHECK(s1 == engine_loss(net, train_policy(1, g, false, 1)));  // the same step: the same mask
  CHECK(dropout_threshold(0.5) == (std::uint64_t{1} << 31));
}
