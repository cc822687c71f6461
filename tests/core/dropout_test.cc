// --dropout (core/dropout): gradients against finite differences with the mask held fixed
// (analyze and train, plain stacks against a reference written from the definition whose mask
// is drawn from Philox directly, residual and normed nets against differences of the engine's
// own forward); the fraction dropped against binomial bounds; thread, weights-mode and
// p = 0 invariance; training's fresh mask per step and none for evaluation; --jacobian of the
// masked network against central differences with the same mask (plain stacks against the
// definition, residual, normed and --arch nets against the engine's forward), its rank at p = 0.5.
#include <doctest/doctest.h>

#include <Eigen/SVD>
#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "residual_config.h"
#include "core/analysis.h"
#include "core/dropout.h"
#include "core/engine.h"
#include "core/jacobian_stats.h"
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

namespace {

// a_L of sample r's input x (n_0) of the plain masked stack, from the definitions: h = W a + b,
// a = phi(h) m / (1 - p) with sample r's mask at step 0 (analyze's) drawn by reference_mask.
VectorXd masked_reference_forward(const AnalysisConfig& c, const Network<double>& net, Index r, const VectorXd& x) {
  VectorXd a = x;
  for (Index l = 1; l <= net.spec.depth(); ++l) {
    const VectorXd h = MatrixXd(net.params.W[l]) * a + VectorXd(net.params.b[l]);
    a = h.unaryExpr([&](double v) { return ref_phi(c.activations[0], v); });
    for (Index j = 0; j < a.size(); ++j)
      a(j) *= reference_mask(c.seed, l, 0, net.ws.batch, a.size(), r, j, c.dropout);
  }
  return a;
}

// d a_L / d x of sample r by central differences of `forward` (x -> a_L).
template <class F>
MatrixXd fd_jacobian_of(Index n_out, const VectorXd& x0, F&& forward) {
  MatrixXd J(n_out, x0.size());
  for (Index j = 0; j < x0.size(); ++j)
    for (Index i = 0; i < n_out; ++i)
      J(i, j) = derivative([&](double e) {
        VectorXd x = x0;
        x(j) += e;
        return forward(x)(i);
      });
  return J;
}

// The engine's own a_L of sample r with its input row replaced by x: the analyze pass, whose
// mask depends on (seed, layer, sample, unit) only, so the perturbed pass keeps sample r's mask.
VectorXd engine_forward(Network<double>& net, Index r, const VectorXd& x) {
  const VectorXd x0 = net.ws.A[0].row(r).transpose();
  net.ws.A[0].row(r) = x.transpose();
  PassResult fo;
  forward_pass(net.spec, net.params, net.ws, analyze_policy<double>(net.spec), fo);
  const VectorXd out = net.ws.A[net.spec.depth()].row(r).transpose();
  net.ws.A[0].row(r) = x0.transpose();
  return out;
}

struct MaskedJacobianCheck {
  double worst_entry = 0;  // J against differences
  double worst_s = 0;      // singular values against Eigen's JacobiSVD of the differences' J, / s_max
  double worst_json = 0;   // the run's JSON figures against the differences' SVD (relative)
  Index dropped = 0;       // units the mask drops at the walked samples (D[l] exactly 0: tanh, gelu)
  std::vector<MatrixXd> J_fd;
};

// J of `c` (dropout, --jacobian, f64) against the differences `forward(net, r, x)` of a_L of
// sample r; the run's JSON (run_one, as analyze prints it) against the SVD of those J.
template <class F>
MaskedJacobianCheck check_masked_jacobian(AnalysisConfig c, Index S, F&& forward) {
  c.jacobian = true;
  c.jacobian_samples = S;
  const Activation& act = *find_activation(c.activations[0]);
  Network<double> net(network_spec(c, act));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  REQUIRE(pass.overflow_layer == 0);
  network_backward(net, pass);  // as analyze does before the walk: backward must leave D[l] as it was
  MaskedJacobianCheck out;
  for (Index l = 1; l <= net.spec.depth(); ++l)
    if (net.spec.op(l).dropout > 0)
      for (Index k = 0; k < S; ++k) out.dropped += (net.ws.D[l].row(k).array() == 0).count();
  const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, S);
  const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, pass, S);
  const Index L = net.spec.depth(), n_out = net.spec.width(L), n_in = net.spec.width(0);
  const Index n = std::min(n_out, n_in);
  double sum_s2 = 0, s_max = 0, s_min = INFINITY;
  Index resolved = 0;
  for (Index k = 0; k < S; ++k) {
    const auto ku = static_cast<std::size_t>(k);
    const MatrixXd J = js.J[ku] * std::pow(10.0, js.log10_scale[ku]);
    const MatrixXd J_fd =
        fd_jacobian_of(n_out, net.ws.A[0].row(k).transpose(), [&](const VectorXd& x) { return forward(net, k, x); });
    for (Index i = 0; i < n_out; ++i)
      for (Index j = 0; j < n_in; ++j) out.worst_entry = std::max(out.worst_entry, rel_err(J(i, j), J_fd(i, j)));
    const VectorXd s_fd = Eigen::JacobiSVD<MatrixXd>(J_fd).singularValues();
    for (Index i = 0; i < n; ++i)
      out.worst_s = std::max(out.worst_s, std::abs(sp.s[ku][i] * std::pow(10.0, sp.log10_scale[ku]) - s_fd[i]) / s_fd[0]);
    sum_s2 += s_fd.squaredNorm();
    s_max = std::max(s_max, s_fd[0]);
    for (Index i = 0; i < n; ++i)
      if (s_fd[i] > 1e-6 * s_fd[0]) {
        ++resolved;
        s_min = std::min(s_min, s_fd[i]);
      }
    out.J_fd.push_back(J_fd);
  }
  const auto j = run_json(run_one(c, act))["jacobian"];
  const double N = static_cast<double>(S * n);
  const auto json_rel = [](double got, double want) { return std::abs(got - want) / std::abs(want); };
  out.worst_json = std::max({json_rel(j["jac_s2_mean"].get<double>(), sum_s2 / N),
                             json_rel(std::pow(10.0, j["jac_s_max_log10"].get<double>()), s_max),
                             json_rel(std::pow(10.0, j["jac_s_min_log10"].get<double>()), s_min)});
  CHECK(j["jac_rank_fraction"].get<double>() == doctest::Approx(static_cast<double>(resolved) / N).epsilon(1e-12));
  return out;
}

}  // namespace

TEST_CASE("dropout with --jacobian: J of the masked net against central differences with the same mask; its "
          "singular values and the JSON's figures against Eigen's SVD of that J") {
  struct Case {
    const char* what;
    const char* act;
    Index K;
    NormKind norm;
    bool arch;  // per-layer dropout (--arch): 0.5, none, 0.2
  };
  double worst_entry = 0, worst_s = 0, worst_json = 0;
  for (const Case& k : {Case{"plain tanh", "tanh", 0, NormKind::none, false},
                        Case{"plain gelu", "gelu", 0, NormKind::none, false},
                        Case{"residual K=2", "tanh", 2, NormKind::none, false},
                        Case{"residual K=2, pre-LN", "gelu", 2, NormKind::layer, false},
                        Case{"plain LayerNorm", "tanh", 0, NormKind::layer, false},
                        Case{"--arch, per-layer dropout", "tanh", 0, NormKind::none, true}}) {
    CAPTURE(k.what);
    AnalysisConfig c = k.K == 0 ? small_dropout(k.act, 0.3, 7) : residual_config(k.act, 4, k.K, 6, "0.7", 6);
    if (k.K == 0) c.width = {6};  // width 6, depth 3, 5 inputs: J is 6 x 5
    c.input_dim = 5;              // a residual net: a projection first (no dropout on it)
    c.sigma_b2 = 0.1;
    c.sigma_w2 = 2.0;
    c.norm = k.norm;
    c.dropout = 0.3;
    c.seed = 7;
    if (k.arch) {
      c.dropout = 0;
      c.arch_ops = network_spec(c, *find_activation(k.act)).ops;
      c.arch_ops.pop_back();  // the head: network_spec adds it
      c.arch_ops[0].dropout = 0.5;
      c.arch_ops[2].dropout = 0.2;
      c.arch = "test";
      c.arch_entries = {"layers[0]", "layers[1]", "layers[2]"};
    }
    MaskedJacobianCheck r;
    if (k.K == 0 && k.norm == NormKind::none && !k.arch) {  // the definition, with its own mask
      r = check_masked_jacobian(c, 4, [&](Network<double>& net, Index row, const VectorXd& x) {
        return masked_reference_forward(c, net, row, x);
      });
    } else {
      r = check_masked_jacobian(c, 4, engine_forward);
    }
    CHECK(r.dropped > 0);  // the mask drops units at these samples
    if (k.K == 0) {        // and a unit dropped in a plain net's last layer zeroes its row of J
      Index zero_rows = 0;
      for (const MatrixXd& J : r.J_fd)
        for (Index i = 0; i < J.rows(); ++i) zero_rows += J.row(i).cwiseAbs().maxCoeff() == 0;
      CHECK(zero_rows > 0);
    }
    CHECK(r.worst_entry < 1e-7);
    CHECK(r.worst_s < 1e-7);
    CHECK(r.worst_json < 1e-7);
    worst_entry = std::max(worst_entry, r.worst_entry);
    worst_s = std::max(worst_s, r.worst_s);
    worst_json = std::max(worst_json, r.worst_json);
  }
  MESSAGE("dropout --jacobian: worst entry rel err ", worst_entry, ", singular values ", worst_s,
          " of s_max, JSON figures ", worst_json);
}

TEST_CASE("dropout with --jacobian, p = 0.5: the mask's dropped units drop J's rank to the fewest kept in a layer") {
  AnalysisConfig c = small_dropout("tanh", 0.5, 11);
  c.width = {6};
  c.input_dim = 6;  // square J: full rank 6 without the mask
  c.batch = 8;
  c.jacobian = true;
  c.jacobian_samples = 8;
  const Activation& act = *find_activation("tanh");
  Network<double> net(network_spec(c, act));
  network_draw(net);
  PassResult pass;
  network_forward(net, pass);
  network_backward(net, pass);
  const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, pass, c.jacobian_samples);
  const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, c.jacobian_samples);
  Index expected_total = 0;
  for (Index k = 0; k < c.jacobian_samples; ++k) {
    CAPTURE(k);
    // rank(prod diag(m_l) W_l) = min over l of the units kept (Gaussian W: almost surely), at most 6.
    Index expected = 6;
    for (Index l = 1; l <= 3; ++l) {
      Index kept = 0;
      for (Index j = 0; j < 6; ++j) kept += reference_mask(c.seed, l, 0, c.batch, 6, k, j, 0.5) != 0;
      expected = std::min(expected, kept);
    }
    expected_total += expected;
    CHECK(resolved_count(sp, static_cast<std::size_t>(k)) == expected);
    // A unit dropped in the last layer: its row of J is exactly zero.
    for (Index i = 0; i < 6; ++i)
      if (reference_mask(c.seed, 3, 0, c.batch, 6, k, i, 0.5) == 0)
        CHECK(js.J[static_cast<std::size_t>(k)].row(i).cwiseAbs().maxCoeff() == 0);
  }
  CHECK(expected_total < 8 * 6);  // the mask does cut the rank here (without it, 6 at every sample)
  const double rank = run_json(run_one(c, act))["jacobian"]["jac_rank_fraction"].get<double>();
  CHECK(rank == doctest::Approx(static_cast<double>(expected_total) / 48).epsilon(1e-12));
  c.dropout = 0;
  CHECK(run_json(run_one(c, act))["jacobian"]["jac_rank_fraction"].get<double>() == 1);
  MESSAGE("p 0.5: rank fraction ", rank, " (kept units: ", expected_total, "/48), without dropout 1");
}

TEST_CASE("dropout with --jacobian: byte-identical JSON for 1 and 2 threads and stored or regenerated weights") {
  for (const Index K : {Index{0}, Index{2}}) {
    for (const Index probes : {Index{0}, Index{4}}) {
      CAPTURE(K);
      CAPTURE(probes);
      AnalysisConfig c;
      c.activations = {"tanh"};
      c.depth = 4;
      c.width = {70};  // two blocks of units, one partial
      c.batch = 6;
      c.residual = K;
      c.dropout = 0.3;
      c.jacobian = true;
      c.jacobian_samples = 3;
      c.jacobian_probes = probes;
      c.jacobian_depths = {0, 2};
      std::string one;
      for (int threads : {1, 2})
        for (WeightsMode mode : {WeightsMode::store, WeightsMode::regenerate}) {
          c.threads = threads;
          c.weights = mode;
          const std::string text = run_json(run_one(c, *find_activation("tanh"))).dump();
          CHECK(text.find("\"jac_s2_mean\"") != std::string::npos);
          if (one.empty()) one = text;
          else CHECK(text == one);
        }
      c.dropout = 0;
      CHECK(run_json(run_one(c, *find_activation("tanh"))).dump() != one);
    }
  }
}
