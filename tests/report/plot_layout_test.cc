// Plots that answer the question: signed metrics on a diverging scale centred on their neutral
// value with the contour where they cross it, the mean-field critical line where an axis is
// sigma_w2, every fixed setting in the subtitle, and no text that leaves the canvas.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "process.h"
#include "report/chart.h"
#include "report/pivot_overlay.h"

using namespace gf;
using json = nlohmann::ordered_json;

namespace {

struct Box {
  double x0, y0, x1, y1;
  std::string text;
};

// Every <text> of an SVG written by gradflow (one element a line), as the box it covers: an
// advance of 0.6 em a character (DejaVu Sans, Helvetica and Arial average below that), an ascent
// of 0.8 em and a descent of 0.25 em, placed by its anchor and turned by its rotation.
std::vector<Box> text_boxes(const std::string& svg) {
  static const std::regex element(R"(<text ([^>]*)>([^<]*)</text>)");
  static const std::regex attr(R"re(([a-z-]+)="([^"]*)")re");
  std::vector<Box> boxes;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), element); it != std::sregex_iterator(); ++it) {
    std::map<std::string, std::string> a;
    const std::string attrs = (*it)[1];
    for (auto at = std::sregex_iterator(attrs.begin(), attrs.end(), attr); at != std::sregex_iterator(); ++at)
      a[(*at)[1]] = (*at)[2];
    std::string text = std::regex_replace(std::string((*it)[2]), std::regex("&[a-z]+;|&#[0-9]+;"), "_");
    std::size_t chars = 0;
    for (const unsigned char ch : text) chars += (ch & 0xC0) != 0x80;
    const double size = std::stod(a["font-size"]), x = std::stod(a["x"]), y = std::stod(a["y"]);
    const double w = 0.6 * size * static_cast<double>(chars) * (a.count("font-weight") ? 1.08 : 1.0);
    const double start = a["text-anchor"] == "middle" ? -w / 2 : a["text-anchor"] == "end" ? -w : 0;
    // In the text's own frame: along [start, start + w], across [-0.8 size, 0.25 size].
    double u0 = start, u1 = start + w, v0 = -0.8 * size, v1 = 0.25 * size;
    int rotate = 0;
    if (a.count("transform")) rotate = std::stoi(a["transform"].substr(7));
    Box b{};
    if (rotate == 0) b = {x + u0, y + v0, x + u1, y + v1, text};
    else if (rotate == 90) b = {x - v1, y + u0, x - v0, y + u1, text};   // (u, v) -> (-v, u)
    else if (rotate == -90) b = {x + v0, y - u1, x + v1, y - u0, text};  // (u, v) -> (v, -u)
    else FAIL("unexpected rotation " << rotate);
    boxes.push_back(b);
  }
  return boxes;
}

void check_inside(const std::string& svg) {
  static const std::regex size(R"re(<svg[^>]* width="([0-9.]+)" height="([0-9.]+)")re");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, size));
  const double W = std::stod(m[1]), H = std::stod(m[2]);
  const std::vector<Box> boxes = text_boxes(svg);
  REQUIRE(boxes.size() > 10);
  for (const Box& b : boxes) {
    CAPTURE(b.text);
    CAPTURE(b.x0);
    CAPTURE(b.x1);
    CAPTURE(b.y0);
    CAPTURE(b.y1);
    CHECK(b.x0 >= 0);
    CHECK(b.y0 >= 0);
    CHECK(b.x1 <= W);
    CHECK(b.y1 <= H);
  }
}

std::string record(int id, const std::string& act, double w2, double b2, int depth, int seed, double metric) {
  json rec = {{"schema_version", 1}, {"run_id", fmt::format("{:016x}", id)}};
  rec["config"] = {{"activation", act}, {"depth", depth},       {"width", 32},  {"batch", 16},
                   {"seed", seed},      {"input", "normal"},    {"init", "auto"}, {"sigma-w2", w2},
                   {"bias-init", 0.0},  {"sigma-b2", b2},       {"leaky-slope", 0.01}, {"vanishing-below", 0.01}};
  rec["resolved_init"] = fmt::format("sigma_w2={}", w2);
  rec["summary"] = {{"grad_factor_per_layer", metric}, {"grad_first_last_log10", std::log10(metric) * (depth - 1)}};
  return rec.dump() + "\n";
}

}  // namespace

TEST_CASE("a signed metric: diverging colours centred on its neutral value, symmetric, with its contour") {
  chart::Heatmap h;
  h.title = "t";
  h.colour_label = "z";
  h.centre = 0;
  h.contour = true;
  chart::HeatmapPanel p;
  for (int i = 0; i < 5; ++i) p.x.push_back(i);
  for (int j = 0; j < 4; ++j) p.y.push_back(j);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 5; ++i) p.z.push_back((i - j) * 0.5);  // -1.5 .. +2: not symmetric itself
  h.panels = {p};
  const std::string svg = chart::heatmap(h);
  // The scale runs -2 .. +2: 0 is BuRd's middle grey, +2 its red end, -1.5 three eighths of the way.
  const auto fill_of = [&](double z) { return z == 0 ? svg::diverging(0.5).hex() : svg::diverging((z + 2) / 4).hex(); };
  CHECK(svg::diverging(0.5).hex() == "#f7f7f7");
  CHECK(svg::diverging(1).hex() == "#b2182b");
  CHECK(svg::diverging(0).hex() == "#2166ac");
  CHECK(svg.find("fill=\"" + fill_of(0) + "\"") != std::string::npos);
  CHECK(svg.find("fill=\"" + fill_of(2) + "\"") != std::string::npos);
  CHECK(svg.find("fill=\"" + fill_of(-1.5) + "\"") != std::string::npos);
  CHECK(svg.find("class=\"contour\"") != std::string::npos);
  // The zero contour of z = (x - y) / 2 is the line y = x: every segment's ends lie on it.
  const auto segments = chart::contour_segments(p, 0);
  REQUIRE(segments.size() >= 3);
  for (const auto& [a, b] : segments) {
    CHECK(a.x == doctest::Approx(a.y).epsilon(1e-12).scale(1));
    CHECK(b.x == doctest::Approx(b.y).epsilon(1e-12).scale(1));
  }
  // At another level: z = 1 is y = x - 2.
  for (const auto& [a, b] : chart::contour_segments(p, 1.0)) CHECK(a.x - a.y == doctest::Approx(2));
}

TEST_CASE("the mean-field critical line where an axis is sigma-w2, at the theory's value") {
  std::vector<Record> tanh, relu, by_b2;
  int id = 0;
  for (const double w2 : {0.5, 1.0, 2.0, 3.0})
    for (const int depth : {5, 10}) {
      tanh.push_back({json::parse(record(++id, "tanh", w2, 0, depth, 0, 1)), "", ""});
      relu.push_back({json::parse(record(++id, "relu", w2, 0, depth, 0, 1)), "", ""});
      for (const double b2 : {0.0, 0.05, 0.1}) by_b2.push_back({json::parse(record(++id, "tanh", w2, b2, 10, 0, 1)), "", ""});
    }
  std::string why;
  // sigma_b2 = 0: tanh's chi_1 = sigma_w2 tanh'(0)^2 at q* = 0 for sigma_w2 <= 1, so 1; relu's sigma_w2 / 2, so 2.
  const auto t = critical_line(tanh, make_pivot(tanh, "depth", "sigma-w2", "grad_factor_per_layer"), why);
  REQUIRE(t);
  for (const double x : t->x) CHECK(x == doctest::Approx(1).epsilon(1e-6));
  CHECK(t->y.front() == 5);
  CHECK(t->y.back() == 10);
  const auto r = critical_line(relu, make_pivot(relu, "sigma-w2", "depth", "grad_factor_per_layer"), why);
  REQUIRE(r);
  for (const double y : r->y) CHECK(y == doctest::Approx(2).epsilon(1e-6));  // sigma-w2 on the rows: y
  // Over sigma_b2: the published tanh phase diagram's edge of chaos, 1.76 at sigma_b2 = 0.05.
  const auto b = critical_line(by_b2, make_pivot(by_b2, "sigma-b2", "sigma-w2", "grad_factor_per_layer"), why);
  REQUIRE(b);
  bool at_005 = false;
  for (std::size_t k = 0; k < b->x.size(); ++k)
    if (std::abs(b->y[k] - 0.05) < 1e-12) {
      at_005 = true;
      CHECK(b->x[k] == doctest::Approx(1.761).epsilon(1e-3));
    }
  CHECK(at_005);
  // No line when what it depends on varies inside the cells.
  std::vector<Record> mixed = tanh;
  mixed.insert(mixed.end(), relu.begin(), relu.end());
  CHECK_FALSE(critical_line(mixed, make_pivot(mixed, "depth", "sigma-w2", "grad_factor_per_layer"), why));
  CHECK(why == "no critical line: activation varies inside the cells");
  // Every fixed setting, then what is averaged.
  CHECK(fixed_settings(by_b2, {"sigma-w2", "sigma-b2"}) ==
        "activation tanh, depth 10, width 32, batch 16, input normal, init auto, bias-init 0, leaky-slope 0.01, seed 0");
  CHECK(fixed_settings(mixed, {"sigma-w2"}) ==
        "width 32, batch 16, input normal, init auto, bias-init 0, sigma-b2 0, leaky-slope 0.01, seed 0; averaged "
        "over activation, depth");
}

TEST_CASE("summarize --plot: a long colour-bar label, a long subtitle, panels: no text leaves the canvas") {
  const std::string dir = test::temp_dir(), f = dir + "/runs.jsonl";
  std::string text;
  int id = 0;
  for (const char* act : {"tanh", "relu"})
    for (const double w2 : {0.5, 1.0, 1.5, 2.0, 2.5, 3.0})
      for (const int depth : {5, 10, 20})
        for (const int seed : {0, 1, 2}) text += record(++id, act, w2, 0.05, depth, seed, 0.8 + 0.1 * w2 - 0.002 * depth);
  test::write_file(f, text);
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--panels", "activation"}, std::vector<std::string>{"--where", "activation=relu"}}) {
    const test::ProcessResult r = test::run_gradflow(test::concat(
        {"summarize", f, "--pivot", "depth,sigma-w2", "--metric", "grad_factor_per_layer", "--plot", dir + "/p.svg"},
        extra));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string svg = test::read_file(dir + "/p.svg");
    check_inside(svg);
    // The label is whole, over two lines; a factor is centred on 1, with its contour.
    CHECK(svg.find(">grad_factor_per_layer (10^(grad_first_last_log10 /</text>") != std::string::npos);
    CHECK(svg.find("class=\"contour\"") != std::string::npos);
    CHECK(svg.find("class=\"series\" data-name=\"critical line") != std::string::npos);
    CHECK(svg.find("seeds 0:2 averaged") != std::string::npos);
    CHECK(svg.find("sigma-b2 0.05") != std::string::npos);
  }
}

TEST_CASE("every other figure keeps its text on the canvas too") {
  const std::string dir = test::temp_dir();
  const std::vector<std::vector<std::string>> runs = {
      {"analyze", "-a", "sigmoid,tanh,relu,leaky_relu,gelu", "-d", "12", "-w", "32", "-b", "16", "--theory", "--plot", dir + "/a.svg"},
      {"theory", "-a", "tanh,relu", "--phase-diagram", "--sigma-w2", "0.5:4:0.5", "--sigma-b2", "0:0.3:0.1", "--plot", dir + "/b.svg"},
      {"train", "-a", "tanh,relu", "-d", "2", "-w", "16", "--n-train", "200", "--n-test", "50", "--steps", "40",
       "--seed", "0:1", "--plot", dir + "/c.svg"},
  };
  for (const auto& args : runs) {
    const test::ProcessResult r = test::run_gradflow(args);
    INFO(args.front(), r.err);
    REQUIRE(r.exit_code == 0);
    check_inside(test::read_file(args.back()));
  }
}
