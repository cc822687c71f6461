// One and two steps of each update rule against a hand computation on scalars, and the step
// sizes the optimiser reports for update_ratio_log10.
#include "train/optimizer.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace gf;

namespace {

// A 1-hidden-layer net of 2 inputs, 2 units, 2 classes: W[1] (2x2), W[2] the head (2x2).
NetworkSpec shape() {
  NetworkSpec s;
  s.input_width = 2;
  s.ops = plain_stack({2}, *find_activation("tanh"), 0, 2);
  return s;
}

// Every weight w0 + 0.1 k, every bias -0.3 + 0.1 k; gradients fixed, of mixed sign.
void fill(Params<double>& p, Params<double>& g) {
  int k = 0;
  for (Index l = 1; l <= 2; ++l) {
    for (Index i = 0; i < 2; ++i) {
      for (Index j = 0; j < 2; ++j, ++k) {
        p.W[l](i, j) = 0.5 + 0.1 * k;
        g.W[l](i, j) = (k % 2 ? -0.2 : 0.3) * (1 + k);
      }
      p.b[l][i] = -0.3 + 0.1 * k;
      g.b[l][i] = 0.05 * (k - 4);
    }
  }
}

constexpr double kLr = 0.1, kDecay = 0.01;

// The optimiser `kind` at learning rate kLr and weight decay kDecay.
OptimizerConfig config(OptimizerKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  c.lr = kLr;
  c.weight_decay = kDecay;
  return c;
}

}  // namespace

TEST_CASE("sgd: one step is W -= lr (g + wd W), b -= lr g") {
  Params<double> p(shape()), g(shape());
  fill(p, g);
  const Params<double> p0 = p;
  const OptimizerConfig c = config(OptimizerKind::sgd);
  Optimizer<double> opt(c, shape());
  UpdateNorms norms;
  opt.step(p, g, &norms);
  for (Index l = 1; l <= 2; ++l) {
    double sumsq = 0;
    for (Index i = 0; i < 2; ++i) {
      for (Index j = 0; j < 2; ++j) {
        const double w = p0.W[l](i, j), expected = w - kLr * (g.W[l](i, j) + kDecay * w);
        CHECK(p.W[l](i, j) == doctest::Approx(expected).epsilon(1e-15));
        sumsq += (expected - w) * (expected - w);
      }
      CHECK(p.b[l][i] == doctest::Approx(p0.b[l][i] - kLr * g.b[l][i]).epsilon(1e-15));
    }
    CHECK(norms.update_sumsq[l] == doctest::Approx(sumsq).epsilon(1e-12));
    CHECK(norms.weight_sumsq[l] == doctest::Approx(p0.W[l].squaredNorm()).epsilon(1e-15));
  }
  // A worked number: W[1](0,0) = 0.5, g = 0.3: 0.5 - 0.1 (0.3 + 0.005) = 0.4695.
  CHECK(p.W[1](0, 0) == doctest::Approx(0.4695).epsilon(1e-15));
}

TEST_CASE("momentum: two steps of v = mu v + g; W -= lr v") {
  Params<double> p(shape()), g(shape());
  fill(p, g);
  const Params<double> p0 = p;
  OptimizerConfig c = config(OptimizerKind::momentum);
  c.momentum = 0.9;
  Optimizer<double> opt(c, shape());
  opt.step(p, g);
  opt.step(p, g);
  for (Index l = 1; l <= 2; ++l)
    for (Index i = 0; i < 2; ++i) {
      for (Index j = 0; j < 2; ++j) {
        double w = p0.W[l](i, j), v = 0;
        for (int t = 0; t < 2; ++t) {
          v = 0.9 * v + g.W[l](i, j) + kDecay * w;
          w -= kLr * v;
        }
        CHECK(p.W[l](i, j) == doctest::Approx(w).epsilon(1e-14));
      }
      // Biases: no decay. v1 = g, v2 = 1.9 g: b = b0 - 0.1 * 2.9 g.
      CHECK(p.b[l][i] == doctest::Approx(p0.b[l][i] - kLr * 2.9 * g.b[l][i]).epsilon(1e-14));
    }
  // W[1](0,0): v1 = 0.305, w1 = 0.4695; v2 = 0.2745 + 0.304695 = 0.579195; w2 = 0.4115805.
  CHECK(p.W[1](0, 0) == doctest::Approx(0.4115805).epsilon(1e-14));
}

TEST_CASE("adam: two steps with bias correction; the first step moves every weight by lr") {
  Params<double> p(shape()), g(shape());
  fill(p, g);
  const Params<double> p0 = p;
  OptimizerConfig c = config(OptimizerKind::adam);
  c.beta1 = 0.9;
  c.beta2 = 0.999;
  c.eps = 1e-8;
  Optimizer<double> opt(c, shape());
  UpdateNorms norms;
  opt.step(p, g, &norms);
  // Step 1: m / (1 - b1) = g and sqrt(v / (1 - b2)) = |g|, so each weight moves by lr |g| / (|g| + eps).
  for (Index l = 1; l <= 2; ++l)
    for (Index i = 0; i < 2; ++i)
      for (Index j = 0; j < 2; ++j) {
        const double gd = g.W[l](i, j) + kDecay * p0.W[l](i, j);
        CHECK(p.W[l](i, j) - p0.W[l](i, j) == doctest::Approx(-kLr * gd / (std::abs(gd) + 1e-8)).epsilon(1e-12));
      }
  CHECK(norms.update_sumsq[1] == doctest::Approx(4 * kLr * kLr).epsilon(1e-6));

  const Params<double> p1 = p;
  opt.step(p, g);
  for (Index l = 1; l <= 2; ++l)
    for (Index i = 0; i < 2; ++i)
      for (Index j = 0; j < 2; ++j) {
        const double g1 = g.W[l](i, j) + kDecay * p0.W[l](i, j), g2 = g.W[l](i, j) + kDecay * p1.W[l](i, j);
        const double m = 0.9 * (0.1 * g1) + 0.1 * g2;
        const double v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
        const double m_hat = m / (1 - 0.9 * 0.9), v_hat = v / (1 - 0.999 * 0.999);
        CHECK(p.W[l](i, j) == doctest::Approx(p1.W[l](i, j) - kLr * m_hat / (std::sqrt(v_hat) + 1e-8)).epsilon(1e-12));
      }
  CHECK(opt.steps_taken() == 2);
}

TEST_CASE("the f32 optimiser matches the f64 one to float precision") {
  Params<double> pd(shape()), gd(shape());
  fill(pd, gd);
  Params<float> pf(shape()), gf_(shape());
  for (Index l = 1; l <= 2; ++l) {
    pf.W[l] = pd.W[l].cast<float>();
    gf_.W[l] = gd.W[l].cast<float>();
    pf.b[l] = pd.b[l].cast<float>();
    gf_.b[l] = gd.b[l].cast<float>();
  }
  OptimizerConfig c;
  c.kind = OptimizerKind::adam;
  c.lr = kLr;
  Optimizer<double> od(c, shape());
  Optimizer<float> of(c, shape());
  for (int t = 0; t < 3; ++t) {
    od.step(pd, gd);
    of.step(pf, gf_);
  }
  for (Index l = 1; l <= 2; ++l) CHECK((pf.W[l].cast<double>() - pd.W[l]).cwiseAbs().maxCoeff() < 1e-5);  // |W| < 2
}
