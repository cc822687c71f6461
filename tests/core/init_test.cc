// --gain against torch.nn.init's documented formulas (torch/nn/init.py): xavier_normal_ std =
// gain sqrt(2/(fan_in+fan_out)); xavier_uniform_ bound = gain sqrt(6/(fan_in+fan_out));
// kaiming_normal_ std = gain/sqrt(fan_in); kaiming_uniform_ bound = gain sqrt(3/fan_in);
// orthogonal_: gain x Q. The standard draws are the generator's own, scaled here by torch's formula.
#include "core/init.h"

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "process.h"

using namespace gf;

namespace {

constexpr Index kOut = 24, kIn = 40;

RowMat<double> draw(const char* scheme, std::optional<double> gain) {
  WeightInit init;
  init.scheme = find_init(scheme);
  init.dist = init.scheme->dist;
  init.gain = gain;
  RowMat<double> W(kOut, kIn);
  draw_weights<double>(init, 7, Stream::weights, 3, W, 2);
  return W;
}

}  // namespace

TEST_CASE("--gain scales each scheme as torch.nn.init's gain argument does") {
  const RandomStream rs{7, Stream::weights, 3};
  const double fi = kIn, fo = kOut;
  for (const double g : {5.0 / 3.0, 0.5, std::sqrt(2.0)}) {
    CAPTURE(g);
    RowMat<double> z(kOut, kIn), u(kOut, kIn);
    const std::size_t n = static_cast<std::size_t>(kOut * kIn);
    fill_normal<double>(rs, 0, z.data(), n, 1.0);
    const double xavier_std = g * std::sqrt(2.0 / (fi + fo)), kaiming_std = g / std::sqrt(fi);
    CHECK((draw("xavier_normal", g) - xavier_std * z).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((draw("he_normal", g) - kaiming_std * z).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((draw("lecun_normal", g) - kaiming_std * z).cwiseAbs().maxCoeff() < 1e-14);
    const double xavier_bound = g * std::sqrt(6.0 / (fi + fo)), kaiming_bound = g * std::sqrt(3.0 / fi);
    fill_uniform<double>(rs, 0, u.data(), n, -xavier_bound, xavier_bound);
    CHECK((draw("xavier_uniform", g) - u).cwiseAbs().maxCoeff() < 1e-14);
    fill_uniform<double>(rs, 0, u.data(), n, -kaiming_bound, kaiming_bound);
    CHECK((draw("he_uniform", g) - u).cwiseAbs().maxCoeff() < 1e-14);
    // orthogonal_(gain): rows orthonormal times the gain (a wide matrix: W W^T = g^2 I).
    const RowMat<double> Q = draw("orthogonal", g);
    CHECK((Q * Q.transpose() - g * g * RowMat<double>::Identity(kOut, kOut)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((Q - g * draw("orthogonal", std::nullopt)).cwiseAbs().maxCoeff() < 1e-14);
  }
  // Without --gain each scheme keeps its own: He's is torch's relu gain, sqrt 2.
  CHECK((draw("he_normal", std::nullopt) - draw("he_normal", std::sqrt(2.0))).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((draw("xavier_normal", std::nullopt) - draw("xavier_normal", 1.0)).cwiseAbs().maxCoeff() == 0);
}

TEST_CASE("--gain 5/3 from the command line and a config file: the weights torch's formula gives") {
  using nlohmann::json;
  // tanh picks xavier_normal; layer 1 has fan_in 48 (input-dim) and fan_out 32.
  const std::vector<std::string> net = {"analyze", "-a", "tanh", "-d", "3", "-w", "32", "--input-dim", "48",
                                        "-b", "8", "--dtype", "f64", "--format", "json"};
  auto weight_log10 = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = net;
    a.insert(a.end(), extra.begin(), extra.end());
    const test::ProcessResult r = test::run_gradflow(a);
    REQUIRE(r.exit_code == 0);
    const json doc = json::parse(r.out);
    std::vector<double> w;
    for (const json& l : doc["runs"][0]["layers"]) w.push_back(l["weight_log10"].get<double>());
    return std::make_pair(doc, w);
  };
  const auto [doc, gained] = weight_log10({"--gain", "5/3"});
  const auto [unit_doc, unit] = weight_log10({"--init", "xavier_normal", "--gain", "1"});
  CHECK(doc["config"]["gain"].get<double>() == 5.0 / 3.0);
  CHECK(doc["runs"][0]["init"] == "xavier_normal gain=1.66667");
  for (std::size_t l = 0; l < gained.size(); ++l) CHECK(gained[l] - unit[l] == doctest::Approx(std::log10(5.0 / 3.0)).epsilon(1e-12));
  // The same draws as --weight-std set to torch's std for layer 2 (fan_in = fan_out = 32).
  const auto [std_doc, fixed] = weight_log10({"--weight-std", std::to_string(5.0 / 3.0 * std::sqrt(2.0 / 64))});
  CHECK(fixed[1] == doctest::Approx(gained[1]).epsilon(1e-6));  // std_to_string keeps 6 decimals
  const std::string dir = test::temp_dir();
  test::write_file(dir + "/c.json", R"({"gain": "5/3", "sigma-b2": "1/20"})");
  const auto [file_doc, from_file] = weight_log10({"--config", dir + "/c.json"});
  CHECK(from_file == gained);
  CHECK(file_doc["config"]["sigma-b2"].get<double>() == 1.0 / 20.0);
  // Refused: two scales at once, a gain of 0, a fraction with a zero denominator.
  for (const auto& bad : std::vector<std::vector<std::string>>{{"--gain", "2", "--sigma-w2", "2"}, {"--gain", "0"},
                                                                {"--gain", "1/0"}, {"--sigma-w2", "25/"}}) {
    std::vector<std::string> a = net;
    a.insert(a.end(), bad.begin(), bad.end());
    const test::ProcessResult r = test::run_gradflow(a);
    CAPTURE(bad[1]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("gradflow: error: --") != std::string::npos);
  }
}
