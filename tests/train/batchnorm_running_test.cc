// BatchNorm's running statistics in `train` (torch.nn.BatchNorm1d's train and eval modes): each
// training step folds the batch's mean and unbiased variance into them with momentum 0.1, and an
// evaluation pass normalises with them. Recomputed here in f64 from the batches the passes saw.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "core/engine.h"
#include "normed_config.h"
#include "process.h"

using namespace gf;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// h = a W^T + b of layer l, from the workspace's input to it (A[l - 1]) and the parameters, in f64.
MatrixXd preact(const Network<double>& net, Index l) {
  MatrixXd h = net.ws.A[static_cast<std::size_t>(l - 1)] * net.params.W[l].transpose();
  h.rowwise() += net.params.b[l].transpose();
  return h;
}

void check_close(const MatrixXd& a, const MatrixXd& b, double tol) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  const double err = (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
  CAPTURE(err);
  CHECK(err < tol);
}

}  // namespace

TEST_CASE(
    "BatchNorm in train: running mean and unbiased variance with momentum 0.1; evaluation "
    "normalises with them") {
  for (const char* act : {"tanh", "relu"}) {
    CAPTURE(act);
    const AnalysisConfig c = test::small_normed(act, NormKind::batch);
    Network<double> net(network_spec(c, *find_activation(act)));
    network_draw(net);
    const Index L = net.spec.depth(), B = net.ws.batch;
    Params<double> grads(net.spec, true);
    NormRunning running(net.spec);
    REQUIRE(running.any());
    std::vector<VectorXd> mean(static_cast<std::size_t>(L + 1)),
        var(static_cast<std::size_t>(L + 1));
    for (Index l = 1; l <= L; ++l) {
      CHECK((running.mean[l].array() == 0).all());  // PyTorch's initial buffers
      CHECK((running.var[l].array() == 1).all());
      mean[l] = VectorXd::Zero(6), var[l] = VectorXd::Ones(6);
    }
    PassResult out;
    for (Index step = 1; step <= 5; ++step) {
      // A new batch each step, and parameters that move, as in training.
      for (Index i = 0; i < B; ++i)
        for (Index j = 0; j < net.ws.A[0].cols(); ++j)
          net.ws.A[0](i, j) = std::sin(1.7 * double(i + 1) * double(j + 2) + step);
      for (Index l = 1; l <= L; ++l)
        net.params.shift[l].array() += 0.05 * static_cast<double>(step);
      forward_pass(
          net.spec, net.params, net.ws,
          train_policy<double>(1, grads, false, static_cast<std::uint64_t>(step), &running), out);
      REQUIRE(out.overflow_layer == 0);
      for (Index l = 1; l <= L; ++l) {
        const MatrixXd h = preact(net, l);
        const VectorXd mu = h.colwise().mean().transpose();
        const VectorXd unbiased =
            (h.rowwise() - mu.transpose()).array().square().colwise().sum().transpose() /
            double(B - 1);
        mean[l] = 0.9 * mean[l] + 0.1 * mu;
        var[l] = 0.9 * var[l] + 0.1 * unbiased;
      }
    }
    for (Index l = 1; l <= L; ++l) {
      CAPTURE(l);
      check_close(running.mean[l], mean[l], 1e-13);
      check_close(running.var[l], var[l], 1e-13);
    }
    // Evaluation (step 0): u = g (h - running mean) / sqrt(running var + eps) + beta, the same
    // affine map for every sample; the running statistics stay as they are.
    forward_pass(net.spec, net.params, net.ws, train_policy<double>(1, grads, false, 0, &running),
                 out);
    for (Index l = 1; l <= L; ++l) {
      CAPTURE(l);
      const MatrixXd h = preact(net, l);
      MatrixXd u(h.rows(), h.cols());
      for (Index j = 0; j < h.cols(); ++j)
        u.col(j) = net.params.gain[l][j] * (h.col(j).array() - mean[l][j]) /
                       std::sqrt(var[l][j] + c.norm_eps) +
                   net.params.shift[l][j];
      const MatrixXd a = u.unaryExpr(
          [&](double v) { return act == std::string("relu") ? std::max(v, 0.0) : std::tanh(v); });
      check_close(net.ws.A[static_cast<std::size_t>(l)], a, 1e-13);
      check_close(running.mean[l], mean[l], 1e-13);
    }
    // Without running statistics (analyze), the same batch is normalised with its own: different.
    const MatrixXd eval_a1 = net.ws.A[1];
    forward_pass(net.spec, net.params, net.ws, analyze_policy<double>(net.spec), out);
    CHECK((net.ws.A[1] - eval_a1).cwiseAbs().maxCoeff() > 1e-3);
  }
}

TEST_CASE(
    "train --norm batch: evaluation uses the running statistics, so the test error does not depend "
    "on --eval-batch") {
  // The test set is evaluated in chunks of --eval-batch: with batch statistics each chunk's
  // normalisation would depend on the chunk, with running statistics every sample is on its own.
  auto test_errors = [](const char* eval_batch) {
    const auto r = test::run_gradflow(
        {"train",  "-a",           "tanh",     "-d",          "3",         "-w",       "16",
         "--norm", "batch",        "--steps",  "40",          "--n-train", "256",      "--n-test",
         "200",    "--eval-batch", eval_batch, "--log-every", "10",        "--format", "json"});
    CAPTURE(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<double> errors;
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
      if (j.is_object()) {
        for (const auto& [k, v] : j.items())
          if (k == "test_error" && v.is_number())
            errors.push_back(v.get<double>());
          else
            walk(v);
      } else if (j.is_array()) {
        for (const auto& v : j) walk(v);
      }
    };
    walk(nlohmann::json::parse(r.out));
    return errors;
  };
  const std::vector<double> a = test_errors("64"), b = test_errors("37");
  REQUIRE(a.size() >= 5);
  CHECK(a == b);
}
