// Every gradient the engine reports is checked against central differences of an independent
// reference forward pass (plain Eigen in f64, activations from closed forms): d loss / d W_l and
// d loss / d h_l of a small network, for every activation and every loss.
#include <doctest/doctest.h>

#include <cmath>

#include "closed_forms.h"
#include "fd_check.h"
#include "core/analysis.h"
#include "core/engine.h"

using namespace gf;
using namespace gf::test;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// The network's parameters and data, copied out of the engine, and a forward pass written
// from the definitions. `shift` adds to h_l (for d loss / d h_l).
struct Reference {
  std::string act;
  LossKind loss;
  std::vector<MatrixXd> W;  // W[l] (n_l, n_{l-1}), l = 1..L
  std::vector<VectorXd> b;
  MatrixXd W_head, x, targets;
  std::vector<std::uint32_t> labels;

  double loss_value(Index shift_layer = 0, const MatrixXd* shift = nullptr) const {
    MatrixXd a = x;
    for (std::size_t l = 1; l < W.size(); ++l) {
      MatrixXd h = a * W[l].transpose();
      h.rowwise() += b[l].transpose();
      if (shift && static_cast<Index>(l) == shift_layer) h += *shift;
      a = h.unaryExpr([&](double v) { return ref_phi(act, v); });
    }
    const MatrixXd z = a * W_head.transpose();
    const double B = static_cast<double>(z.rows());
    double total = 0;
    for (Index i = 0; i < z.rows(); ++i) {
      switch (loss) {
        case LossKind::xent: total += std::log(z.row(i).array().exp().sum()) - z(i, labels[i]); break;
        case LossKind::mse: total += 0.5 * (z.row(i) - targets.row(i)).squaredNorm(); break;
        case LossKind::random: total += z.row(i).dot(targets.row(i)); break;
      }
    }
    return total / B;
  }
};

}  // namespace

TEST_CASE("d loss / d W_l and d loss / d h_l agree with finite differences, every activation x loss") {
  for (LossKind loss : {LossKind::xent, LossKind::mse, LossKind::random}) {
    for (const Activation& act : activations()) {
      CAPTURE(act.name);
      CAPTURE(static_cast<int>(loss));
      AnalysisConfig c;
      c.depth = 4;
      c.width = {6};
      c.input_dim = 5;
      c.batch = 3;
      c.classes = 4;
      c.loss = loss;
      c.sigma_b2 = 0.1;  // non-zero biases exercise the bias path
      c.sigma_w2 = 1.5;
      c.dtype = Dtype::f64;
      c.threads = 1;
      Network<double> net(network_spec(c, act));
      network_draw(net);
      PassResult pass;
      GradientTap tap;
      network_forward(net, pass);
      network_backward(net, pass, &tap);

      Reference ref{std::string(act.name), loss, {}, {}, net.params.W.back(), net.ws.A[0], net.ws.targets, net.ws.labels};
      ref.W.resize(5);
      ref.b.resize(5);
      for (int l = 1; l <= 4; ++l) {
        ref.W[l] = net.params.W[l];
        ref.b[l] = net.params.b[l];
      }
      CHECK(rel_err(pass.loss, ref.loss_value()) < 1e-12);

      double worst = 0;
      for (int l = 1; l <= 4; ++l) {
        worst = std::max(worst, worst_entry_error(ref.W[l], tap.d_W[l], [&] { return ref.loss_value(); }));
        MatrixXd shift = MatrixXd::Zero(c.batch, 6);
        worst = std::max(worst, worst_entry_error(shift, tap.d_h[l], [&] { return ref.loss_value(l, &shift); }));
      }
      CHECK(worst < 1e-6);
    }
  }
}

TEST_CASE("reported gradient norms are the norms of the true gradients") {
  AnalysisConfig c;
  c.depth = 5;
  c.width = {70};  // two blocks of units, one of them partial
  c.batch = 9;
  c.dtype = Dtype::f64;
  c.threads = 2;
  for (const char* name : {"tanh", "relu", "sigmoid"}) {
    Network<double> net(network_spec(c, *find_activation(name)));
    network_draw(net);
    PassResult pass;
    GradientTap tap;
    network_forward(net, pass);
    network_backward(net, pass, &tap);
    for (int l = 1; l <= 5; ++l) {
      const LayerStats& s = pass.layers[l - 1];
      CHECK(s.grad_preact_log10 == doctest::Approx(std::log10(tap.d_h[l].norm())).epsilon(1e-12));
      CHECK(s.grad_weight_log10 == doctest::Approx(std::log10(tap.d_W[l].norm())).epsilon(1e-12));
      CHECK(s.weight_log10 == doctest::Approx(std::log10(net.params.W[l].norm())).epsilon(1e-12));
      double coherence = 0;
      for (Index i = 0; i < tap.d_W[l].rows(); ++i)
        coherence += std::abs(tap.d_W[l].row(i).array().sign().sum()) / static_cast<double>(tap.d_W[l].cols());
      CHECK(s.dw_sign_coherence == doctest::Approx(coherence / static_cast<double>(tap.d_W[l].rows())));
    }
  }
}
