// --jacobian through the real binary: every output carries the declared figures (and only with
// the flag), sweep records and check rules read them, and misuse is a usage error (exit 2).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "process.h"
#include "core/jacobian_stats.h"

using namespace gf;
using namespace gf::test;

TEST_CASE("analyze --jacobian: JSON, CSV and table carry the declared figures; without it, none") {
  const std::vector<std::string> net = {"analyze", "-a", "identity,tanh", "--init", "orthogonal", "-d", "6",
                                        "-w", "32", "-b", "16", "--dtype", "f64"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = net;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_gradflow(args);
  };
  const ProcessResult json = with({"--jacobian", "--jacobian-samples", "2", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["config"]["jacobian-samples"] == 2);
  const auto& jac = doc["runs"][0]["jacobian"];
  for (const JacobianMetric& m : jacobian_metrics()) CHECK(jac.contains(std::string(m.key)));
  CHECK(jac["jac_isometry"].get<double>() == doctest::Approx(1).epsilon(1e-12));  // linear orthogonal
  CHECK(jac["jac_s2_mean"].get<double>() == doctest::Approx(1).epsilon(1e-12));

  const ProcessResult plain = with({"--format", "json"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out.find("jac_") == std::string::npos);
  CHECK(plain.out.find("\"jacobian") == std::string::npos);

  const ProcessResult csv = with({"--jacobian", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.substr(0, csv.out.find('\n')).find(",jac_s2_mean,") != std::string::npos);
  const ProcessResult table = with({"--jacobian"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Jacobian d a_L / d x (4 samples)") != std::string::npos);
  CHECK(table.out.find("isometry") != std::string::npos);
}

TEST_CASE("sweep and check read --jacobian's figures; misuse names the flag") {
  const std::string dir = temp_dir();
  const ProcessResult sweep = run_gradflow({"sweep", "-a", "tanh", "-d", "2:4:2", "-w", "16", "-b", "8", "--jacobian",
                                            "--format", "csv", "-o", dir + "/r.csv", "-q"});
  REQUIRE(sweep.exit_code == 0);
  const std::string text = read_file(dir + "/r.csv");
  CHECK(text.substr(0, text.find('\n')).find(",verdict,jac_s2_mean,") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);

  const std::vector<std::string> check = {"check", "-a", "identity", "--init", "orthogonal", "-d", "8", "-w", "16",
                                          "-b", "8", "--rule", "jac_isometry > 0.99"};
  std::vector<std::string> with_flag = check;
  with_flag.push_back("--jacobian");
  CHECK(run_gradflow(with_flag).exit_code == 0);
  // tanh with its auto init (xavier_normal) is no isometry: the rule fails, exit 1
  const std::vector<std::string> failing = {"check", "-a", "tanh", "-d", "8", "-w", "16", "-b", "8",
                                            "--rule", "jac_isometry > 0.99", "--jacobian"};
  CHECK(run_gradflow(failing).exit_code == 1);
  const ProcessResult without = run_gradflow(check);
  CHECK(without.exit_code == 2);
  CHECK(without.err.find("jac_isometry is measured only with --jacobian") != std::string::npos);

  const ProcessResult many = run_gradflow({"analyze", "-a", "tanh", "-b", "8", "--jacobian", "--jacobian-samples", "9"});
  CHECK(many.exit_code == 2);
  CHECK(many.err.find("--jacobian-samples 9 is more than --batch 8") != std::string::npos);
  const ProcessResult seeds = run_gradflow({"analyze", "-a", "tanh", "-b", "8", "--jacobian", "--seed", "0:2"});
  CHECK(seeds.exit_code == 2);
  CHECK(seeds.err.find("--jacobian shows one network") != std::string::npos);
  const ProcessResult train = run_gradflow({"train", "--jacobian"});
  CHECK(train.exit_code == 2);
}
