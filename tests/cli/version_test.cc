// gradflow --version, as text and as JSON for bug reports: the fields against what this test
// binary, built by the same compiler with the same flags, sees itself.
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/thread_team.h"
#include "process.h"

using namespace gf::test;

TEST_CASE("--version --format json: version, git sha, build type, compiler, SIMD, GEMM library") {
  const ProcessResult text = run_gradflow({"--version"});
  REQUIRE(text.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_match(text.out, m, std::regex(R"(gradflow (\d+\.\d+\.\d+) \(([0-9a-f]{12}|unknown)\)\n)")));

  const ProcessResult r = run_gradflow({"--version", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const nlohmann::json v = nlohmann::json::parse(r.out);
  CHECK(v["version"] == m[1].str());
  CHECK(v["git_sha"] == m[2].str());
#ifdef NDEBUG
  CHECK((v["build_type"] == "Release" || v["build_type"] == "RelWithDebInfo" || v["build_type"] == "MinSizeRel"));
#else
  CHECK(v["build_type"] == "Debug");
#endif
  CHECK(v["compiler"] == std::string("g++ ") + __VERSION__);
  CHECK(v["simd"] == Eigen::SimdInstructionSetsInUse());
#ifdef GRADFLOW_OPENBLAS
  CHECK(v["gemm"].get<std::string>().rfind("OpenBLAS", 0) == 0);
#else
  CHECK(v["gemm"] == "Eigen 3.4.0");
#endif
  CHECK(v["threads"].get<std::string>().find(std::to_string(gf::kSpinMicroseconds) + " us") != std::string::npos);

  // Either spelling and either order give the same document.
  CHECK(run_gradflow({"--version", "--format=json"}).out == r.out);
  CHECK(run_gradflow({"--format", "json", "--version"}).out == r.out);
  CHECK(run_gradflow({"--version", "--format", "text"}).out == text.out);
}

TEST_CASE("--version with an unknown --format: exit 2, naming the value and what is allowed") {
  const ProcessResult r = run_gradflow({"--version", "--format", "xml"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "gradflow: error: --format: unknown value 'xml' for --version; allowed: text, json\n");
}
