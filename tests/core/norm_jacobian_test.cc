// --jacobian through LayerNorm and RMSNorm (core/op_norm's Jacobian steps): J and a partial
// d a_L / d a_l against central differences of a forward map written here from the definitions,
// for the plain stack with a norm in every layer and residual blocks with a pre- and a post-norm; the left null vector a
// LayerNorm at the top puts in J; BatchNorm refused; identical JSON for any --threads.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "normed_config.h"
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

namespace {

// u = g N(h) + beta at one sample: layer (mean and biased variance over the units) or rms.
VectorXd ref_affine_norm(const Params<double>& p, Index l, NormKind kind, double eps, const VectorXd& h) {
  const double mu = kind == NormKind::layer ? h.mean() : 0.0;
  const double var = (h.array() - mu).square().mean();
  const VectorXd x = (h.array() - mu) / std::sqrt(var + eps);
  return p.gain[l].cwiseProduct(x) + p.shift[l];
}

// a_L of one input x: the plain stack h = W a + b, a = phi(g N(h) + beta); or residual blocks
// (an optional linear projection first), s' = s + alpha F(s) with F's input g N(s) + beta (pre)
// or s' = g N(s + alpha F(s)) + beta (post), F = K dense layers, phi after each but the last.
// from > 0: a_L from a_from (a residual net's stream there), the partial Jacobian's map.
VectorXd reference_out(const AnalysisConfig& c, const Network<double>& net, const VectorXd& x, Index from = 0) {
  const Params<double>& p = net.params;
  const Index L = net.spec.depth();
  auto dense = [&](Index l, const VectorXd& a) { return VectorXd(MatrixXd(p.W[l]) * a + p.b[l]); };
  auto phi = [&](const VectorXd& h) {
    return VectorXd(h.unaryExpr([&](double v) { return ref_phi(c.activations[0], v); }));
  };
  if (c.residual == 0) {
    VectorXd a = x;
    for (Index l = from + 1; l <= L; ++l) a = phi(ref_affine_norm(p, l, c.norm, c.norm_eps, dense(l, a)));
    return a;
  }
  Index l = from;
  VectorXd s = from > 0 || x.size() == c.width[0] ? x : dense(++l, x);
  while (l < L) {
    const Index first = l + 1;
    VectorXd f = c.norm_position == NormPosition::pre ? ref_affine_norm(p, first, c.norm, c.norm_eps, s) : s;
    for (Index j = 1; j <= c.residual; ++j) {
      f = dense(++l, f);
      if (j < c.residual) f = phi(f);
    }
    s += c.residual_alpha() * f;
    if (c.norm_position == NormPosition::post) s = ref_affine_norm(p, l, c.norm, c.norm_eps, s);
  }
  return s;
}

// Gains and shifts away from 1 and 0, so that a step mixing them up would show.
void perturb_norms(Params<double>& p) {
  for (std::size_t l = 1; l < p.gain.size(); ++l)
    for (Index j = 0; j < p.gain[l].size(); ++j) {
      p.gain[l][j] = 1 + 0.1 * static_cast<double>(j) - 0.05 * static_cast<double>(l);
      p.shift[l][j] = 0.03 * static_cast<double>(j - 2);
    }
}

// The engine's J at the first 3 samples, after the forward and the backward (analyze's order:
// the backward spends dense_norm's x), against differences of reference_out: the worst rel_err.
double worst_against_differences(const AnalysisConfig& c, Index from = 0) {
  Network<double> net(network_spec(c, *find_activation(c.activations[0])));
  network_draw(net);
  perturb_norms(net.params);
  PassResult pass;
  network_forward(net, pass);
  REQUIRE(pass.overflow_layer == 0);
  network_backward(net, pass);
  const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, 3, from);
  const Index n_out = net.spec.width(net.spec.depth()), n_in = net.spec.width(from);
  double worst = 0;
  for (Index k = 0; k < 3; ++k) {
    const auto ku = static_cast<std::size_t>(k);
    const MatrixXd J = js.J[ku] * std::pow(10.0, js.log10_scale[ku]);
    REQUIRE(J.rows() == n_out);
    REQUIRE(J.cols() == n_in);
    const VectorXd x0 = net.ws.A[from].row(k).transpose();
    for (Index j = 0; j < n_in; ++j)
      for (Index i = 0; i < n_out; ++i) {
        const double fd = derivative([&](double e) {
          VectorXd x = x0;
          x(j) += e;
          return reference_out(c, net, x, from)(i);
        });
        worst = std::max(worst, rel_err(J(i, j), fd));
      }
  }
  return worst;
}

}  // namespace

TEST_CASE("--jacobian through layer and rms norms: J against central differences, plain and residual pre/post") {
  double worst_all = 0;
  for (const char* act : {"tanh", "sigmoid"}) {
    for (NormKind norm : {NormKind::layer, NormKind::rms}) {
      CAPTURE(act);
      CAPTURE(norm_name(norm));
      const double plain = std::max(worst_against_differences(small_normed(act, norm)),
                                    worst_against_differences(small_normed(act, norm), 1));  // and from layer 1
      CHECK(plain < 1e-7);
      worst_all = std::max(worst_all, plain);
      for (NormPosition position : {NormPosition::pre, NormPosition::post})
        for (Index input_dim : {6, 5}) {  // 5: a linear projection first
          for (const char* scale : {"1", "0.3"}) {
            CAPTURE(norm_position_name(position));
            CAPTURE(input_dim);
            CAPTURE(scale);
            AnalysisConfig c = residual_config(act, 4, 2, 6, scale, 5);
            c.input_dim = input_dim;
            c.sigma_b2 = 0.1;
            c.sigma_w2 = 1.5;
            c.norm = norm;
            c.norm_position = position;
            c.norm_eps = 1e-3;
            const double residual = worst_against_differences(c);
            CHECK(residual < 1e-7);
            worst_all = std::max(worst_all, residual);
            // --jacobian-depths: d s_L / d s_l from the second block's input (slot 2, or 3 after
            // a projection), through the norms
            const double partial = worst_against_differences(c, input_dim == 6 ? 2 : 3);
            CHECK(partial < 1e-7);
            worst_all = std::max(worst_all, partial);
          }
        }
    }
  }
  MESSAGE("norm Jacobians against central differences: worst entry rel err ", worst_all);
}

TEST_CASE("LayerNorm at the top: J has the left null vector 1 / (phi'(u) g), so a square J has rank n - 1; "
          "RMSNorm (eps > 0) keeps full rank") {
  for (NormKind norm : {NormKind::layer, NormKind::rms}) {
    CAPTURE(norm_name(norm));
    // One linear layer, orthogonal: J = diag(g / sigma) P W is square (16, 16) and its only small
    // singular values are the norm's. (Saturated slopes, or a deep square product, have small
    // singular values of their own: the test would not be about the norm.)
    AnalysisConfig c = small_normed("identity", norm);
    c.depth = 1;
    c.width = {16};
    c.input_dim = 16;
    c.batch = 4;
    c.init = "orthogonal";
    Network<double> net(network_spec(c, *find_activation("identity")));
    network_draw(net);
    perturb_norms(net.params);
    PassResult pass;
    network_forward(net, pass);
    network_backward(net, pass);
    const Jacobians js = jacobians(net.spec, net.params, net.ws, pass, 2);
    const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, pass, 2);
    const Index L = net.spec.depth();
    for (std::size_t k = 0; k < 2; ++k) {
      // 1^T (I - 1 1^T / n - x x^T / n) = -(sum x) x^T / n = 0, so v^T J = 0 with v the top
      // layer's 1 / (phi'(u) g); relative to ||v|| ||J||.
      const VectorXd v = (net.ws.D[L].row(static_cast<Index>(k)).transpose().cwiseProduct(net.params.gain[L])).cwiseInverse();
      const double left = (v.transpose() * js.J[k]).norm() / (v.norm() * js.J[k].norm());
      const double ratio = sp.s[k][15] / sp.s[k][0];
      if (norm == NormKind::layer) {
        CHECK(left < 1e-14);
        CHECK(ratio < 1e-14);
        CHECK(resolved_count(sp, k) == 15);
      } else {
        CHECK(left > 1e-3);
        CHECK(ratio > 1e-6);  // x^T P = (eps / sigma^2) x^T: small, not 0
        CHECK(resolved_count(sp, k) == 16);
      }
      MESSAGE(norm_name(norm), " sample ", k, ": |v^T J| / (|v| |J|) = ", left, ", s_min / s_max = ", ratio);
    }
    const JacobianStats st = jacobian_stats(sp);
    CHECK(st.rank_fraction == doctest::Approx(norm == NormKind::layer ? 15.0 / 16 : 1.0));
  }
}

TEST_CASE("--jacobian with norms: BatchNorm refused; identical JSON for any --threads") {
  AnalysisConfig c;
  c.activations = {"tanh", "relu"};
  c.depth = 4;
  c.width = {100};  // two blocks of units, one partial
  c.input_dim = 70;
  c.batch = 16;
  c.jacobian = true;
  c.jacobian_samples = 3;
  c.jacobian_depths = {0, 2};  // the partials too (layer 2 is on a --residual 2 stream)
  c.norm = NormKind::batch;
  try {
    validate(c);
    FAIL("no error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("--jacobian with --norm batch: BatchNorm couples the samples") !=
          std::string::npos);
  }
  for (int arch = 0; arch < 3; ++arch) {  // plain layer, residual pre rms, residual post layer
    CAPTURE(arch);
    c.norm = arch == 1 ? NormKind::rms : NormKind::layer;
    c.residual = arch == 0 ? 0 : 2;
    c.input_dim = arch == 0 ? 70 : 100;
    c.norm_position = arch == 2 ? NormPosition::post : NormPosition::pre;
    std::string docs[2];
    for (int i = 0; i < 2; ++i) {
      c.threads = i == 0 ? 1 : 3;
      const AnalysisResult r = run_analysis(c);
      for (const RunResult& run : r.runs) {
        REQUIRE(run.jacobian);
        CHECK(std::isfinite(run.jacobian->s2_mean_log10));
        CHECK(run.jacobian_partials.size() == 2);
        docs[i] += run_json(run).dump();
      }
    }
    CHECK(docs[0] == docs[1]);
  }
}
