// `gradflow theory` beyond the plain stack, through the real binary: residual blocks (Yang &
// Schoenholz 2017) against their closed form for linear branches and against `analyze
// --theory`'s prediction for the same network; LayerNorm and RMSNorm against norm_theory_test's
// closed form; BatchNorm's growth factor against the measured growth of a BatchNorm relu stack
// (the fit of norm_test's explosion test); what is not covered said in words, and refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "process.h"
#include "usage_error.h"

using gf::test::check_usage_error;
using gf::test::run_gradflow;
using json = nlohmann::json;

namespace {

json run_json(const std::vector<std::string>& args) {
  const auto r = run_gradflow(args);
  CAPTURE(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE(
    "theory --residual, linear branches: E s_k^2 = (1 + alpha^2 v)^k, gradient factor 1 + alpha^2 "
    "v per block") {
  // F(s) = W_2 W_1 s has gain v = sigma_w2^2 (residual_theory_test's closed form).
  const double sw2 = 1.3, alpha = 0.7, v = sw2 * sw2, g = 1 + alpha * alpha * v;
  const json doc =
      run_json({"theory", "-a", "identity", "--sigma-w2", "1.3", "-d", "12", "-w", "64",
                "--residual", "2", "--residual-scale", "0.7", "--format", "json"});
  CHECK(doc["config"]["residual"] == 2);
  CHECK(doc["config"]["residual-scale"] == "0.7");
  const json& r = doc["results"][0];
  REQUIRE(r["blocks"].size() == 6);
  for (int k = 1; k <= 6; ++k) {
    CAPTURE(k);
    const json& b = r["blocks"][k - 1];
    CHECK(b["block"] == k);
    CHECK(b["stream_rms"].get<double>() ==
          doctest::Approx(std::pow(g, 0.5 * (k - 1))).epsilon(1e-12));
    CHECK(b["grad_stream_rel_log10"].get<double>() ==
          doctest::Approx(0.5 * (6 - k) * std::log10(g)).epsilon(1e-12));
    CHECK(b["branch_ratio"].get<double>() == doctest::Approx(alpha * alpha * v).epsilon(1e-12));
  }
  CHECK(r["notes"][0].get<std::string>().find("Yang & Schoenholz 2017") != std::string::npos);
  const auto t = run_gradflow({"theory", "-a", "identity", "--sigma-w2", "1.3", "-d", "12", "-w",
                               "64", "--residual", "2", "--residual-scale", "0.7"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("  block     rms(s)    grad_s    branch") != std::string::npos);
  CHECK(t.out.find("note: residual blocks of 2 layers, alpha 0.7") != std::string::npos);
}

TEST_CASE(
    "theory --residual and --norm predict what analyze --theory predicts for the same network") {
  // The same mean field (predict_layers) on the same op list: the numbers agree to rounding.
  const std::vector<std::vector<std::string>> nets = {
      {"--residual", "2"},
      {"--residual", "4", "--residual-scale", "invsqrt-blocks"},
      {"--residual", "2", "--init", "fixup"},
      {"--norm", "layer"},
      {"--norm", "rms", "--norm-eps", "0.01"},
      {"--residual", "2", "--norm", "layer"},
      {"--residual", "2", "--norm", "rms", "--norm-position", "post", "--residual-scale", "0.5"},
      {"--residual", "2", "--norm", "layer", "--norm-position", "post", "--norm-eps", "0.01"},
  };
  for (const auto& net : nets) {
    for (const char* act : {"tanh", "relu"}) {
      std::vector<std::string> th = {"theory", "-a", act,        "-d",  "8",
                                     "-w",     "64", "--format", "json"};
      std::vector<std::string> an = {"analyze", "-a",       act,        "-d",  "8",
                                     "-w",      "64",       "-b",       "16",  "--loss",
                                     "random",  "--theory", "--format", "json"};
      th.insert(th.end(), net.begin(), net.end());
      an.insert(an.end(), net.begin(), net.end());
      CAPTURE(th);
      const json t = run_json(th)["results"][0];
      const json a = run_json(an)["runs"][0];
      REQUIRE(t["layers"].size() == a["layers"].size());
      for (std::size_t l = 0; l < t["layers"].size(); ++l) {
        CAPTURE(l);
        CHECK(t["layers"][l]["q"].get<double>() ==
              doctest::Approx(a["layers"][l]["theory_q"].get<double>()).epsilon(1e-12));
        // Fixup's zero last layers leave the layers below them no gradient: null on both sides.
        const json& tg = t["layers"][l]["grad_preact_rel_log10"];
        const json& ag = a["layers"][l]["theory_grad_preact_rel_log10"];
        CHECK(tg.is_null() == ag.is_null());
        if (!tg.is_null() && !ag.is_null())
          CHECK(tg.get<double>() == doctest::Approx(ag.get<double>()).epsilon(1e-12));
      }
      const std::size_t nb = t.contains("blocks") ? t["blocks"].size() : 0;
      CHECK(nb == (a.contains("blocks") ? a["blocks"].size() : 0));
      for (std::size_t k = 0; k < nb; ++k) {
        CHECK(t["blocks"][k]["stream_rms"].get<double>() ==
              doctest::Approx(a["blocks"][k]["theory_stream_rms"].get<double>()).epsilon(1e-12));
        CHECK(t["blocks"][k]["grad_stream_rel_log10"].get<double>() ==
              doctest::Approx(a["blocks"][k]["theory_grad_stream_rel_log10"].get<double>())
                  .epsilon(1e-12));
      }
      CHECK(t["chi_1"].get<double>() ==
            doctest::Approx(a["theory"]["chi_1"].get<double>()).epsilon(1e-12));
      CHECK(t["sigma_w2"].get<double>() ==
            doctest::Approx(a["theory"]["sigma_w2"].get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("theory --init fixup and --residual-scale 0: every block is the identity") {
  for (const char* flag : {"--init", "--residual-scale"}) {
    const json r =
        run_json({"theory", "-a", "tanh", "-d", "12", "-w", "64", "--residual", "3", flag,
                  flag == std::string("--init") ? "fixup" : "0", "--format", "json"})["results"][0];
    REQUIRE(r["blocks"].size() == 4);
    for (const json& b : r["blocks"]) {
      CHECK(b["stream_rms"].get<double>() == 1.0);
      CHECK(b["grad_stream_rel_log10"].get<double>() == 0.0);
      CHECK(b["branch_ratio"].get<double>() == 0.0);
    }
  }
}

TEST_CASE(
    "theory --norm layer, relu, eps 1e-12: q = 1 and the factor (n-2)/(n-1) per layer, whatever "
    "sigma_w2") {
  for (const char* sw2 : {"0.5", "7"}) {
    const json r =
        run_json({"theory", "-a", "relu", "--sigma-w2", sw2, "-d", "8", "-w", "64", "--norm",
                  "layer", "--norm-eps", "1e-12", "--format", "json"})["results"][0];
    for (std::size_t l = 0; l + 1 < 8; ++l) {
      CHECK(r["layers"][l]["q"].get<double>() == doctest::Approx(1).epsilon(1e-9));
      CHECK(r["layers"][l]["chi"].get<double>() == doctest::Approx(62.0 / 63).epsilon(1e-9));
    }
    CHECK(r["chi_1"].get<double>() == doctest::Approx(62.0 / 63).epsilon(1e-9));
    CHECK(r["c_star"].is_null());
    CHECK(r["critical_sigma_w2"].is_null());
    CHECK(r["notes"][0].get<std::string>().find("--norm layer") != std::string::npos);
  }
  const auto t = run_gradflow({"theory", "-a", "relu", "-d", "8", "--norm", "rms"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("edge of chaos none: through a norm") != std::string::npos);
  CHECK(t.out.find("note: --norm rms") != std::string::npos);
}

// BatchNorm through the command line: theory's rate per activation, and analyze --theory's
// per-layer profile beside the measured one (the rate itself is checked against measurement in
// tests/theory/norm_theory_test.cc).
TEST_CASE("theory --norm batch and analyze --theory --norm batch: the large-batch rate, beside the measurement") {
  const json t = run_json({"theory", "-a", "relu,tanh", "--norm", "batch", "-d", "12", "--format", "json"});
  const json& relu = t["results"][0];
  CHECK(relu["bn_grad2_growth_per_layer"].get<double>() ==
        doctest::Approx(std::numbers::pi / (std::numbers::pi - 1)).epsilon(1e-5));
  CHECK(relu["chi_1"].get<double>() == relu["bn_grad2_growth_per_layer"].get<double>());
  CHECK(relu["phase"] == "chaotic");
  REQUIRE(relu["layers"].size() == 12);
  // Layers 1..11 each multiply by sqrt(chi); --norm-eps 1e-5 takes about 1e-5 off each factor.
  CHECK(relu["layers"][0]["grad_preact_rel_log10"].get<double>() ==
        doctest::Approx(11 * 0.5 * std::log10(std::numbers::pi / (std::numbers::pi - 1))).epsilon(1e-5));
  CHECK(relu["notes"][0].get<std::string>().find("Yang et al. 2019") != std::string::npos);
  CHECK(t["results"][1]["bn_grad2_growth_per_layer"].get<double>() == doctest::Approx(1.1778).epsilon(1e-4));
  const auto table = run_gradflow({"theory", "-a", "tanh", "--norm", "batch"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("E[phi'(u)^2] / Var[phi(u)] = 1.1778 per layer towards the input for tanh") != std::string::npos);
  const auto csv = run_gradflow({"theory", "-a", "relu", "--norm", "batch", "-d", "5", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 6);

  // analyze --theory: every layer's gradient (relative to the last) beside the prediction.
  for (const std::string act : {"relu", "tanh"}) {
    CAPTURE(act);
    const json a = run_json({"analyze", "-a", act, "-d", "20", "-w", "512", "-b", "128", "--norm", "batch", "--loss",
                             "random", "--theory", "--format", "json"})["runs"][0];
    const json& agreement = a["theory"]["agreement"];
    MESSAGE(act, ": gradient profile within ", agreement["grad_weight_mean_abs_decades"], " decades over ",
            agreement["layers"], " layers");
    CHECK(agreement["layers"] == 20);
    CHECK(agreement["grad_weight_mean_abs_decades"].get<double>() < 0.05);
    CHECK(agreement["q_rel_mean_abs"].get<double>() < 1e-3);
    CHECK(a["layers"][0]["theory_grad_weight_rel_log10"].get<double>() > 0.3);  // it does explode
  }
}

TEST_CASE("theory --norm-position: Post-LN's stream stays at RMS 1, Pre-LN's grows; a note where it has no effect") {
  const json post = run_json({"theory", "-a", "relu", "-d", "8", "--residual", "2", "--norm", "layer",
                              "--norm-position", "post", "--format", "json"});
  const json pre = run_json({"theory", "-a", "relu", "-d", "8", "--residual", "2", "--norm", "layer", "--format",
                             "json"});
  CHECK(post["config"]["norm-position"] == "post");
  CHECK(pre["config"]["norm-position"] == "pre");
  // relu, he_normal: V = sigma_w2^2 / 2 = 2 per block on a unit-variance branch input.
  CHECK(post["results"][0]["blocks"][3]["stream_rms"].get<double>() == doctest::Approx(1).epsilon(1e-4));
  CHECK(pre["results"][0]["blocks"][3]["stream_rms"].get<double>() == doctest::Approx(std::sqrt(7.0)).epsilon(1e-4));
  CHECK(post["results"][0]["notes"].dump().find("Post-LN") != std::string::npos);
  const json plain = run_json({"theory", "-a", "relu", "-d", "4", "--norm-position", "post", "--format", "json"});
  CHECK(plain["results"][0]["notes"].dump().find("--norm-position post has no effect on a plain stack") !=
        std::string::npos);
}

TEST_CASE("theory beyond the plain stack: refusals name the flag") {
  check_usage_error({"theory", "--residual", "3", "-d", "8"}, {"not a multiple of 3"});
  check_usage_error({"theory", "--residual", "1", "-d", "8"}, {"--residual 1"});
  check_usage_error({"theory", "--residual", "2", "--norm", "batch"},
                    {"--norm batch with --residual 2", "not implemented", "--norm layer or rms, or drop --residual"});
  check_usage_error({"theory", "--init", "fixup"}, {"--init fixup"});
  check_usage_error({"theory", "--residual", "2", "--residual-scale", "abc"}, {"--residual-scale"});
  check_usage_error({"theory", "--residual", "2", "--phase-diagram"}, {"--phase-diagram"});
  check_usage_error({"theory", "--norm", "layer", "--jacobian"}, {"--jacobian"});
}
