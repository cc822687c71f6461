// The one walk (engine.cc) under its two policies, on the same network and batch: analyze's
// renormalised backward (log10 norms with the scale carried, d W reduced block by block) and
// train's true-scale backward (d W stored for the optimiser) must tell the same story. An
// independent cross-check of the unification: the two policies share the loops but not the
// arithmetic that turns gradients into figures.
#include <doctest/doctest.h>

#include <cmath>

#include "core/analysis.h"
#include "core/engine.h"
#include "core/enum_names.h"

using namespace gf;

TEST_CASE("analyze and train policies give the same per-layer gradient norms on one network and batch") {
  for (LossKind loss : {LossKind::xent, LossKind::mse, LossKind::random}) {
    for (const char* name : {"tanh", "relu", "sigmoid", "gelu"}) {
      CAPTURE(name);
      CAPTURE(loss_name(loss));
      AnalysisConfig c;
      c.depth = 6;
      c.width = {70};  // two blocks of units, one partial (parallel.h)
      c.input_dim = 9;
      c.batch = 16;
      c.classes = 5;
      c.loss = loss;
      c.sigma_b2 = 0.05;
      c.dtype = Dtype::f64;
      c.threads = 2;
      Network<double> net(network_spec(c, *find_activation(name)));
      network_draw(net);
      PassResult a;
      network_forward(net, a);
      network_backward(net, a);
      REQUIRE(a.overflow_layer == 0);
      REQUIRE(a.zero_grad_layer == 0);

      // Train's policy on the very same parameters and workspace (the batch analyze drew).
      Params<double> g(net.spec);
      PassResult t;
      forward_pass(net.spec, net.params, net.ws, train_policy(2, g, true), t);
      CHECK(t.loss == a.loss);  // one forward kernel, no rescaling here: the same bits
      backward_pass(net.spec, net.params, net.ws, train_policy(2, g, true), t);

      for (Index l = 1; l <= net.spec.depth(); ++l) {
        CAPTURE(l);
        const LayerStats& sa = a.layers[static_cast<std::size_t>(l - 1)];
        const LayerStats& st = t.layers[static_cast<std::size_t>(l - 1)];
        CHECK(st.saturated_frac == sa.saturated_frac);
        CHECK(st.act_mean == sa.act_mean);
        // True-scale norm vs log10 norm at unit scale + carried scale.
        const double train_log10 = std::log10(g.W[l].norm());
        CHECK(std::abs(train_log10 - sa.grad_weight_log10) < 1e-12 * std::max(1.0, std::abs(train_log10)));
        // One counting kernel and one division: equal unless a d W entry's sign differs between
        // the two scales (a sum cancelling to rounding), which would move it by 1/(rows fan_in).
        CHECK(st.dw_sign_coherence == sa.dw_sign_coherence);
      }
      // Train stores the head's gradient, analyze has none to report: the head is only checked
      // to be there, non-zero, with the head bias's gradient the column sums of d z.
      const Index head = net.spec.depth() + 1;
      CHECK(g.W[head].norm() > 0);
      CHECK((g.b[head] - net.ws.dZ.colwise().sum().transpose()).norm() == 0);
    }
  }
}
