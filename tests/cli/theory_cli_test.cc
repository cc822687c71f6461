// `gradflow theory` and `analyze --theory / --plot` through the real binary: exit codes, error
// messages that name the flag, parseable output, files written whole, analyze's own output
// unchanged without --theory.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "process.h"
#include "theory/mean_field.h"
#include "usage_error.h"
#include "xml_check.h"

using namespace gf;
using test::check_usage_error;
using test::count_lines;
using test::run_gradflow;

TEST_CASE("theory --help teaches, and theory is listed") {
  const auto h = run_gradflow({"theory", "--help"});
  CHECK(h.exit_code == 0);
  for (const char* s : {"--phase-diagram", "--sigma-w2", "--plot", "Examples:", "0.5:4:0.05"})
    CHECK(h.out.find(s) != std::string::npos);
  CHECK(run_gradflow({"--help"}).out.find("theory") != std::string::npos);
}

TEST_CASE("theory JSON: the numbers of the library, for the issue's example") {
  const auto r = run_gradflow({"theory", "-a", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--depth", "50",
                               "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["command"] == "theory");
  CHECK(doc["config"]["sigma-w2"] == "1.5");
  const auto& t = doc["results"][0];
  CHECK(t["activation"] == "tanh");
  CHECK(t["layers"].size() == 50);
  const FixedPoint f = fixed_point({find_activation("tanh"), 0.01}, 1.5, 0.05, 0, 1.55, 0.01);
  CHECK(t["q_star"].get<double>() == doctest::Approx(f.q_star).epsilon(1e-12));
  CHECK(t["chi_1"].get<double>() == doctest::Approx(f.chi_1).epsilon(1e-12));
  CHECK(t["phase"] == "ordered");
  CHECK(t["critical_sigma_w2"].get<double>() == doctest::Approx(1.761).epsilon(1e-3));
  CHECK(t["layers"][0]["q"].get<double>() == doctest::Approx(1.55));
  CHECK(t["born_dead_prob"].is_null());
}

TEST_CASE("theory: init auto per activation, tables and CSV") {
  const auto j = run_gradflow({"theory", "-a", "relu,tanh,selu", "--init", "auto", "--format", "json"});
  REQUIRE(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["results"][0]["init"] == "he_normal");
  CHECK(doc["results"][0]["chi_1"] == 1.0);
  CHECK(doc["results"][0]["phase"] == "critical");
  CHECK(doc["results"][0]["xi_c"].is_null());  // infinite at criticality
  CHECK(doc["results"][0]["born_dead_prob"].get<double>() > 0);
  CHECK(doc["results"][2]["init"] == "lecun_normal");
  const auto t = run_gradflow({"theory", "-a", "relu,tanh", "-d", "8"});
  REQUIRE(t.exit_code == 0);
  CHECK(t.out.find("edge of chaos") != std::string::npos);
  CHECK(t.out.find("born dead") != std::string::npos);
  const auto c = run_gradflow({"theory", "-a", "relu,tanh", "-d", "8", "--format", "csv"});
  REQUIRE(c.exit_code == 0);
  CHECK(count_lines(c.out) == 1 + 2 * 8);
  CHECK(c.out.rfind("activation,init,sigma_w2,sigma_b2,layer,q,", 0) == 0);
}

TEST_CASE("theory: bad values name the flag and what is allowed") {
  check_usage_error({"theory", "--sigma-w2", "0.5:4:0.05"}, {"needs --phase-diagram"});
  check_usage_error({"theory", "--phase-diagram", "--sigma-w2", "4:0.5:0.05"}, {"--sigma-w2"});
  check_usage_error({"theory", "--phase-diagram", "--sigma-b2", "0:1:0"}, {"STEP"});
  check_usage_error({"theory", "--sigma-w2", "abc"}, {"--sigma-w2"});
  check_usage_error({"theory", "--sigma-w2", "0"}, {"above 0"});
  check_usage_error({"theory", "--init", "he_normal", "--sigma-w2", "2"}, {"--sigma-w2"});
  check_usage_error({"theory", "--phase-diagram", "--init", "he_normal"}, {"--phase-diagram"});
  check_usage_error({"theory", "--plot", "x.png"}, {"--plot"});
  check_usage_error({"theory", "-a", "tanhh"}, {"did you mean 'tanh'"});
  check_usage_error({"theory", "--phase-diagram", "--sigma-w2", "0.001:100:0.0001", "--sigma-b2", "0:1:0.01"},
                    {"too many"});
}

TEST_CASE("theory --phase-diagram: CSV cells, JSON critical line, and a plot written whole") {
  const std::string dir = test::temp_dir();
  const auto r = run_gradflow({"theory", "-a", "tanh", "--phase-diagram", "--sigma-w2", "0.8:2:0.4", "--sigma-b2",
                               "0:0.1:0.05", "--format", "csv", "--plot", dir + "/phase.svg"});
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(r.out) == 1 + 4 * 3);
  const test::XmlResult x = test::check_xml(test::read_file(dir + "/phase.svg"));
  CHECK(x.ok);
  CHECK(x.count("g", "class", "series") == 1);
  const auto j = run_gradflow({"theory", "-a", "tanh", "--phase-diagram", "--sigma-w2", "0.8:2:0.4", "--sigma-b2",
                               "0:0.1:0.05", "--format", "json", "-j", "1"});
  REQUIRE(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  const auto& d = doc["phase_diagrams"][0];
  CHECK(d["cells"].size() == 12);
  CHECK(d["critical_line"][0]["sigma_w2"].get<double>() == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(d["critical_line"][1]["sigma_w2"].get<double>() == doctest::Approx(1.761).epsilon(1e-3));
  const auto table = run_gradflow({"theory", "-a", "tanh", "--phase-diagram", "--sigma-w2", "0.8:2:0.4",
                                   "--sigma-b2", "0:0.1:0.05"});
  CHECK(table.out.find("critical sigma_w2") != std::string::npos);
}

TEST_CASE("analyze: JSON unchanged without --theory, whether or not a plot is drawn") {
  const std::string dir = test::temp_dir();
  const std::vector<std::string> base = {"analyze", "-a", "tanh,relu", "-d", "5", "-w", "64", "-b", "16", "--format", "json"};
  const auto plain = run_gradflow(base);
  auto with_plot = base;
  with_plot.insert(with_plot.end(), {"--plot", dir + "/a.svg"});
  const auto plotted = run_gradflow(with_plot);
  REQUIRE(plain.exit_code == 0);
  REQUIRE(plotted.exit_code == 0);
  CHECK(plain.out == plotted.out);
  CHECK(plain.out.find("theory") == std::string::npos);
  const test::XmlResult x = test::check_xml(test::read_file(dir + "/a.svg"));
  REQUIRE(x.ok);
  CHECK(x.count("g", "class", "series") == 2 + 2 + 1);  // gradients; saturated; relu's dead units
  // The same bytes for any thread count.
  auto one = with_plot, two = with_plot;
  one.back() = dir + "/one.svg";
  two.back() = dir + "/two.svg";
  one.insert(one.end(), {"-j", "1"});
  two.insert(two.end(), {"-j", "2"});
  REQUIRE(run_gradflow(one).exit_code == 0);
  REQUIRE(run_gradflow(two).exit_code == 0);
  CHECK(test::read_file(dir + "/one.svg") == test::read_file(dir + "/two.svg"));
}

TEST_CASE("analyze --theory: predictions beside each layer, agreement and notes") {
  const auto r = run_gradflow({"analyze", "-a", "tanh,relu", "-d", "6", "-w", "128", "-b", "32", "--format", "json",
                               "--theory"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["config"]["theory"] == true);
  for (const auto& run : doc["runs"]) {
    const auto& l = run["layers"][0];
    for (const char* key : {"preact_var", "theory_q", "theory_c", "grad_preact_rel_log10", "theory_grad_preact_rel_log10",
                            "theory_grad_weight_rel_log10", "theory_dead_units_frac"})
      CHECK(l.contains(key));
    CHECK(run["theory"]["agreement"]["layers"] == 6);
    // xent is not the theory's backward assumption, and width 128 over 6 layers is finite: both said.
    const std::string notes = run["theory"]["notes"].dump();
    CHECK(notes.find("--loss random") != std::string::npos);
  }
  CHECK(doc["runs"][1]["theory"]["agreement"]["dead_units_mean_abs"].is_number());
  CHECK(doc["runs"][0]["theory"]["agreement"]["dead_units_mean_abs"].is_null());
  const auto csv = run_gradflow({"analyze", "-a", "tanh", "-d", "4", "-w", "32", "-b", "8", "--format", "csv", "--theory"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.substr(0, csv.out.find('\n')).ends_with(",theory_grad_weight_rel_log10,theory_dead_units_frac"));
  const auto table = run_gradflow({"analyze", "-a", "relu", "-d", "4", "-w", "32", "-b", "8", "--theory",
                                   "--input", "positive", "--init", "orthogonal"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("Theory beside measurement") != std::string::npos);
  CHECK(table.out.find("note: orthogonal init") != std::string::npos);
  CHECK(table.out.find("note: non-Gaussian input") != std::string::npos);
  CHECK(table.out.find("note: finite width") != std::string::npos);
}

TEST_CASE("--plot: unwritable or same as --output is refused before any work") {
  check_usage_error({"analyze", "-d", "2", "-w", "8", "--plot", "/nonexistent-dir/x.svg"}, {"--plot: cannot write"});
  check_usage_error({"analyze", "-d", "2", "-w", "8", "--plot", "a.svg", "-o", "a.svg"}, {"give two files"});
  check_usage_error({"analyze", "-d", "2", "-w", "8", "--plot", "a.pdf"}, {"does not end in .svg"});
}

TEST_CASE("theory --gain and fractions: torch's gain, sigma_w2 = G^2 for the schemes at gain 1") {
  auto sigma_w2 = [](std::vector<std::string> extra) {
    std::vector<std::string> a = {"theory", "-d", "3", "--format", "json"};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto r = run_gradflow(a);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["results"][0]["sigma_w2"].get<double>();
  };
  CHECK(sigma_w2({"-a", "tanh", "--sigma-w2", "25/9"}) == 25.0 / 9.0);
  CHECK(sigma_w2({"-a", "tanh", "--gain", "5/3"}) == doctest::Approx(25.0 / 9.0).epsilon(1e-15));  // xavier, equal widths
  CHECK(sigma_w2({"-a", "relu", "--gain", "1"}) == doctest::Approx(1.0).epsilon(1e-15));  // he_normal's sqrt 2 replaced
  CHECK(sigma_w2({"-a", "relu"}) == doctest::Approx(2.0).epsilon(1e-15));
  check_usage_error({"theory", "-a", "tanh", "--gain", "2", "--sigma-w2", "2"}, {"--gain and --sigma-w2 both set"});
  check_usage_error({"theory", "-a", "tanh", "--sigma-w2", "1/0"}, {"--sigma-w2: '1/0'"});
}

TEST_CASE("analyze --residual --theory: each block's stream beside the prediction, in JSON and the table") {
  // ReZero's alpha 0: every block is the identity, so the prediction is the input's RMS (1) and a
  // flat stream gradient, and the measured stream is the input's own RMS in every block, its
  // gradient equal at every block.
  const auto r = run_gradflow({"analyze", "-a", "tanh", "--residual", "2", "-d", "6", "-w", "64", "-b", "32",
                               "--residual-scale", "0", "--loss", "random", "--theory", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  const auto& run = doc["runs"][0];
  REQUIRE(run["blocks"].size() == 3);
  for (const auto& b : run["blocks"]) {
    CHECK(b["theory_stream_rms"] == 1.0);
    CHECK(b["theory_grad_stream_rel_log10"] == 0.0);
    CHECK(std::abs(b["grad_stream_rel_log10"].get<double>()) < 1e-8);  // f32 rounding of equal gradients
    CHECK(b["stream_rms"].get<double>() == doctest::Approx(run["blocks"][0]["stream_rms"].get<double>()).epsilon(1e-12));
  }
  const auto& a = run["theory"]["agreement"];
  CHECK(a["blocks"] == 3);
  CHECK(a["stream_rms_rel_mean_abs"].get<double>() ==
        doctest::Approx(std::abs(run["blocks"][0]["stream_rms"].get<double>() - 1)).epsilon(1e-9));
  CHECK(run["theory"]["notes"].dump().find("Yang & Schoenholz") != std::string::npos);
  // The stream gradient's agreement: the mean |measured - predicted| over the blocks, recomputed.
  const auto tanh = run_gradflow({"analyze", "-a", "tanh", "--residual", "2", "-d", "8", "-w", "64", "-b", "16",
                                  "--loss", "random", "--theory", "--format", "json"});
  REQUIRE(tanh.exit_code == 0);
  const auto tdoc = nlohmann::json::parse(tanh.out);
  const auto& trun = tdoc["runs"][0];
  double gap = 0;
  for (const auto& b : trun["blocks"])
    gap += std::abs(b["grad_stream_rel_log10"].get<double>() - b["theory_grad_stream_rel_log10"].get<double>());
  CHECK(trun["theory"]["agreement"]["grad_stream_mean_abs_decades"].get<double>() ==
        doctest::Approx(gap / static_cast<double>(trun["blocks"].size())).epsilon(1e-12));
  const auto table = run_gradflow({"analyze", "-a", "relu", "--residual", "2", "-d", "4", "-w", "32", "-b", "8", "--theory"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("block    rms(s)    theory") != std::string::npos);
  CHECK(table.out.find("agreement over 2 blocks") != std::string::npos);
  // A plain stack's JSON has no block keys.
  const auto plain = run_gradflow({"analyze", "-a", "tanh", "-d", "3", "-w", "16", "--theory", "--format", "json"});
  CHECK(!nlohmann::json::parse(plain.out)["runs"][0]["theory"]["agreement"].contains("blocks"));
}

TEST_CASE("analyze --theory with norms: layer and rms in plain stacks and residual blocks; residual BatchNorm refused") {
  const auto r = run_gradflow({"analyze", "-a", "tanh", "--norm", "layer", "-d", "4", "-w", "64", "-b", "16",
                               "--theory", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  const auto& layer = doc["runs"][0]["layers"][1];
  CHECK(layer["theory_norm_grad_ratio_log10"].is_number());
  CHECK(doc["runs"][0]["theory"]["notes"].dump().find("--norm layer") != std::string::npos);
  check_usage_error({"analyze", "--norm", "batch", "--residual", "2", "-d", "4", "--theory"},
                    {"--theory", "--norm batch with --residual 2", "drop --theory, or drop --residual"});
  for (const char* position : {"pre", "post"}) {
    CAPTURE(position);
    const auto res = run_gradflow({"analyze", "-a", "tanh", "--norm", "rms", "--residual", "2", "--norm-position",
                                   position, "-d", "4", "-w", "64", "-b", "16", "--theory", "--format", "json"});
    REQUIRE(res.exit_code == 0);
    const auto run = nlohmann::json::parse(res.out)["runs"][0];
    REQUIRE(run["blocks"].size() == 2);
    CHECK(run["blocks"][0]["theory_stream_rms"].is_number());
    CHECK(run["theory"]["notes"].dump().find(std::string(position) == "pre" ? "Pre-LN" : "Post-LN") !=
          std::string::npos);
  }
}
