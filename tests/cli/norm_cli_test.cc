// --norm, --norm-position and --norm-eps through the real binary: misuse is a usage error (exit 2)
// that names the flag, the value and what is allowed; JSON carries the settings only when set.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf::test;

TEST_CASE("--norm: refusals name the flag, the value and what is allowed; exit 2") {
  const std::vector<std::string> net = {"analyze", "-a", "relu", "-d", "4", "-w", "16", "-b", "8"};
  auto with = [&](const std::vector<std::string>& extra) { return run_gradflow(concat(net, extra)); };
  const ProcessResult bad = with({"--norm", "group"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--norm: unknown value 'group'; allowed: none, batch, layer, rms") != std::string::npos);
  const ProcessResult pos = with({"--norm-position", "middle"});
  CHECK(pos.exit_code == 2);
  CHECK(pos.err.find("--norm-position") != std::string::npos);
  CHECK(pos.err.find("pre, post") != std::string::npos);
  const ProcessResult eps = with({"--norm", "layer", "--norm-eps", "0"});
  CHECK(eps.exit_code == 2);
  CHECK(eps.err.find("--norm-eps") != std::string::npos);
  const ProcessResult jac = with({"--norm", "batch", "--jacobian"});
  CHECK(jac.exit_code == 2);
  CHECK(jac.err.find("--jacobian with --norm batch: BatchNorm couples the samples") != std::string::npos);
  CHECK(jac.out.empty());
  // The per-sample norms have a Jacobian step (op_norm.h): measured, not refused.
  const ProcessResult jac_ln = with({"--norm", "layer", "--jacobian"});
  CHECK(jac_ln.exit_code == 0);
  CHECK(jac_ln.err.find("--jacobian") == std::string::npos);
}

TEST_CASE("--norm in JSON: the config carries it only when set; residual nets add the position") {
  const ProcessResult plain = run_gradflow({"analyze", "-a", "relu", "-d", "4", "-w", "16", "-b", "8", "--format", "json"});
  REQUIRE(plain.exit_code == 0);
  CHECK(!nlohmann::json::parse(plain.out)["config"].contains("norm"));
  const ProcessResult normed = run_gradflow({"analyze", "-a", "relu", "-d", "4", "-w", "16", "-b", "8", "--norm", "rms",
                                             "--residual", "2", "--norm-position", "post", "--format", "json"});
  REQUIRE(normed.exit_code == 0);
  const auto cfg = nlohmann::json::parse(normed.out)["config"];
  CHECK(cfg["norm"] == "rms");
  CHECK(cfg["norm-eps"] == 1e-5);
  CHECK(cfg["norm-position"] == "post");
}

TEST_CASE("--norm, --norm-position and --norm-eps are sweep axes") {
  const ProcessResult r = run_gradflow({"sweep", "-a", "tanh", "-d", "4", "-w", "16", "-b", "8", "--residual", "2",
                                        "--norm", "layer,rms", "--norm-position", "pre,post", "--norm-eps",
                                        "1e-5,0.1", "--format", "csv"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("8 runs (2 norm x 2 norm-position x 2 norm-eps)") != std::string::npos);
  std::size_t lines = 0;
  for (char ch : r.out) lines += ch == '\n';
  CHECK(lines == 9);  // the header and 8 records
  CHECK(r.out.find(",rms,0.1,post,") != std::string::npos);
}
