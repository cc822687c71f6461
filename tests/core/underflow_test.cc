// Slopes below the dtype's range (tanh' at h = 100 is 10^-87, below f32's 1.2e-38): they are
// counted (slope_underflow_frac), computed again with their scale taken out so that the
// gradients stay exact, and where that cannot be done no figure is printed. The reference is
// the same network's forward and backward pass in long double (range 1e-4951) from the
// textbook formulas, written here without the engine's code.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "closed_forms.h"
#include "core/analysis.h"
#include "core/engine.h"

using namespace gf;
using namespace gf::test;

namespace {

using MatL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;

long double phi_ld(const std::string& act, long double x, long double leak) {
  if (act == "tanh") return std::tanh(x);
  if (act == "sigmoid") return 1 / (1 + std::exp(-x));
  if (act == "elu") return x > 0 ? x : std::expm1(x);
  if (act == "leaky_relu") return x > 0 ? x : leak * x;
  FAIL("no reference for " << act);
  return 0;
}

long double slope_ld(const std::string& act, long double x, long double leak) {
  if (act == "tanh") return 4 * std::exp(-2 * std::fabs(x)) / std::pow(1 + std::exp(-2 * std::fabs(x)), 2);
  if (act == "sigmoid") return std::exp(-std::fabs(x)) / std::pow(1 + std::exp(-std::fabs(x)), 2);
  if (act == "elu") return x > 0 ? 1 : std::exp(x);
  if (act == "leaky_relu") return x > 0 ? 1 : leak;
  FAIL("no reference for " << act);
  return 0;
}

struct Figures {
  std::vector<long double> grad_preact_log10, grad_weight_log10;  // [l - 1]
};

// The engine's network (its draws, cast up), passed forward and back in long double with the
// mean softmax cross-entropy.
template <class T>
Figures reference(const Network<T>& net, const std::string& act, long double leak) {
  const Index L = net.spec.depth(), B = net.spec.batch;
  std::vector<MatL> H(static_cast<std::size_t>(L + 1)), A(static_cast<std::size_t>(L + 1));
  A[0] = net.ws.A[0].template cast<long double>();
  for (Index l = 1; l <= L; ++l) {
    const MatL W = net.params.W[static_cast<std::size_t>(l)].template cast<long double>();
    MatL h = A[static_cast<std::size_t>(l - 1)] * W.transpose();
    h.rowwise() += net.params.b[static_cast<std::size_t>(l)].template cast<long double>().transpose();
    H[static_cast<std::size_t>(l)] = h;
    A[static_cast<std::size_t>(l)] = h.unaryExpr([&](long double v) { return phi_ld(act, v, leak); });
  }
  const MatL W_head = net.params.W.back().template cast<long double>();
  const MatL z = A[static_cast<std::size_t>(L)] * W_head.transpose();
  MatL d_z(z.rows(), z.cols());
  for (Index i = 0; i < B; ++i) {
    const long double m = z.row(i).maxCoeff();
    const auto e = (z.row(i).array() - m).exp();
    d_z.row(i) = e / e.sum();
    d_z(i, net.ws.labels[static_cast<std::size_t>(i)]) -= 1;
  }
  d_z /= static_cast<long double>(B);
  MatL d_a = d_z * W_head;
  Figures f;
  f.grad_preact_log10.resize(static_cast<std::size_t>(L));
  f.grad_weight_log10.resize(static_cast<std::size_t>(L));
  for (Index l = L; l >= 1; --l) {
    const MatL& h = H[static_cast<std::size_t>(l)];
    const MatL d_h = d_a.cwiseProduct(h.unaryExpr([&](long double v) { return slope_ld(act, v, leak); }));
    const MatL d_W = d_h.transpose() * A[static_cast<std::size_t>(l - 1)];
    f.grad_preact_log10[static_cast<std::size_t>(l - 1)] = std::log10(d_h.norm());
    f.grad_weight_log10[static_cast<std::size_t>(l - 1)] = std::log10(d_W.norm());
    d_a = d_h * net.params.W[static_cast<std::size_t>(l)].template cast<long double>();
  }
  return f;
}

AnalysisConfig small(Dtype dtype) {
  AnalysisConfig c;
  c.depth = 4;
  c.width = {70};  // two blocks of units, one partial
  c.batch = 16;
  c.dtype = dtype;
  c.threads = 2;
  return c;
}

struct Checked {
  PassResult pass;
  Summary summary;
};

// Runs the engine on the config, and checks every layer's gradient figures against the long
// double reference of the very same network to `decades`.
template <class T>
Checked run_and_check(const AnalysisConfig& c, const std::string& act, double decades) {
  const Activation& a = *find_activation(act);
  Network<T> net(network_spec(c, a));
  network_draw(net);
  Checked out;
  network_forward(net, out.pass);
  network_backward(net, out.pass);
  out.summary = summarize(out.pass, c.thresholds, act, saturation_text(c, a), dtype_name(c.dtype));
  const Figures ref = reference(net, act, static_cast<T>(c.leaky_slope));
  for (Index l = 1; l <= c.depth; ++l) {
    CAPTURE(l);
    const LayerStats& s = out.pass.layers[static_cast<std::size_t>(l - 1)];
    if (out.pass.inexact_layer >= l) continue;  // no figure is printed there
    CHECK(std::abs(s.grad_preact_log10 - static_cast<double>(ref.grad_preact_log10[static_cast<std::size_t>(l - 1)])) < decades);
    CHECK(std::abs(s.grad_weight_log10 - static_cast<double>(ref.grad_weight_log10[static_cast<std::size_t>(l - 1)])) < decades);
  }
  return out;
}

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
  for (const std::string& s : lines)
    if (s.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the issue's example: tanh, bias 100, weight std 0.01: f32 exact, and says why") {
  // Every slope is 4 e^-200 = 10^-86.3: below f32's range, inside f64's.
  AnalysisConfig c = small(Dtype::f32);
  c.activations = {"tanh"};
  c.bias_init = 100;
  c.weight_std = 0.01;
  const Checked f32 = run_and_check<float>(c, "tanh", 1e-4);
  c.dtype = Dtype::f64;
  const Checked f64 = run_and_check<double>(c, "tanh", 1e-6);
  for (Index l = 1; l <= c.depth; ++l) {
    CAPTURE(l);
    CHECK(f32.pass.layers[static_cast<std::size_t>(l - 1)].slope_underflow_frac == 1.0);
    CHECK(f64.pass.layers[static_cast<std::size_t>(l - 1)].slope_underflow_frac == 0.0);
    CHECK(f32.pass.layers[static_cast<std::size_t>(l - 1)].grad_preact_log10 < -86.0 * static_cast<double>(c.depth - l + 1) + 1);
  }
  CHECK(f32.pass.inexact_layer == 0);
  REQUIRE(f32.summary.notes.size() == 1);
  CHECK(f32.summary.notes[0] ==
        "tanh: f32 cannot represent the slope of 100.0% of the unit-samples of layers 1 to 4 (below "
        "1.2e-38, f32's smallest normal number); gradflow computed those slopes again with their "
        "scale taken out as a log, so the gradients shown are exact");
  CHECK(f64.summary.notes.empty());
}

TEST_CASE("slopes below f64's range too: tanh with bias 400, sigmoid 800, elu -800") {
  for (const char* act : {"tanh", "sigmoid", "elu"}) {
    CAPTURE(act);
    AnalysisConfig c = small(Dtype::f64);
    const std::string name = act;
    c.bias_init = name == "tanh" ? 400 : name == "sigmoid" ? 800 : -800;  // slopes 10^-347
    c.weight_std = 0.01;
    const Checked f64 = run_and_check<double>(c, act, 1e-6);
    CHECK(f64.pass.layers.back().slope_underflow_frac == 1.0);
    CHECK(mentions(f64.summary.notes, "f64 cannot represent the slope"));
    c.dtype = Dtype::f32;
    run_and_check<float>(c, act, 1e-3);  // h = 400 + O(0.01) in f32 is good to 3e-5 of it
  }
}

TEST_CASE("a few slopes below the range next to large ones: counted, and no gradient changes") {
  // Biases N(0, 50^2): units with |h| > 44 have tanh' below f32's range, the others do not.
  AnalysisConfig c = small(Dtype::f32);
  c.sigma_b2 = 2500;
  const Checked f32 = run_and_check<float>(c, "tanh", 1e-4);
  const double frac = f32.pass.layers[1].slope_underflow_frac;
  CHECK(frac > 0.1);
  CHECK(frac < 0.9);
  CHECK(f32.pass.inexact_layer == 0);
  CHECK(mentions(f32.summary.notes, "they change no gradient by a millionth"));
}

TEST_CASE("where the scale cannot be taken out, no figure is printed, and the run says why") {
  // leaky_relu with slope 1e-45 is a subnormal in f32 (1.4e-45): no exp to rescale. With every
  // unit below zero the whole gradient rides on those slopes.
  AnalysisConfig c = small(Dtype::f32);
  c.leaky_slope = 1e-45;
  c.bias_init = -3;
  c.weight_std = 0.01;
  const Checked f32 = run_and_check<float>(c, "leaky_relu", 1e-4);
  CHECK(f32.pass.inexact_layer == c.depth);
  for (const LayerStats& l : f32.pass.layers) CHECK(std::isnan(l.grad_preact_log10));
  REQUIRE(!f32.summary.verdict.empty());
  CHECK(f32.summary.verdict.front() == "inexact");
  CHECK(f32.summary.sentences.front().find("layer 4's unit-samples") != std::string::npos);
  CHECK(f32.summary.sentences.front().find("rerun with --dtype f64") != std::string::npos);
  // In f64 the slope is a normal number: exact, nothing to say.
  c.dtype = Dtype::f64;
  const Checked f64 = run_and_check<double>(c, "leaky_relu", 1e-6);
  CHECK(f64.pass.inexact_layer == 0);
  CHECK(f64.summary.notes.empty());
}

TEST_CASE("slopes are rescaled identically for any thread count") {
  AnalysisConfig c = small(Dtype::f32);
  c.width = {200};
  c.bias_init = 100;
  c.weight_std = 0.01;
  std::vector<double> figures[2];
  for (int threads : {1, 2}) {
    c.threads = threads;
    const RunResult r = run_one(c, *find_activation("tanh"));
    for (const LayerStats& l : r.pass.layers) figures[threads - 1].push_back(l.grad_weight_log10);
  }
  CHECK(figures[0] == figures[1]);
}
