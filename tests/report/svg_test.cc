// The pictures: well-formed, self-contained XML with the expected series, byte-for-byte stable
// (golden files for a fixed input; GRADFLOW_UPDATE_GOLDEN=1 rewrites them after a deliberate
// change, to be reviewed as a diff and by eye).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include "process.h"
#include "report/chart.h"
#include "report/plots.h"
#include "theory/theory_compare.h"
#include "xml_check.h"

using namespace gf;
using test::check_xml;

namespace {

chart::LineChart fixed_line_chart() {
  chart::LineChart c;
  c.title = "A fixed chart & its <legend>";
  c.subtitle = "golden-file input";
  c.x_label = "step (iterations)";
  chart::Panel top{"loss (nats)", {}};
  chart::Panel bottom{"share (%)", {}};
  bottom.y_min = 0;
  for (int s = 0; s < 3; ++s) {
    chart::Series a{"run " + std::to_string(s), {}, {}, s, svg::Dash::solid, svg::marker_for(s)};
    chart::Series b{"run " + std::to_string(s) + " dead", {}, {}, s, svg::Dash::dotted, svg::Marker::none, false};
    for (int i = 0; i <= 40; ++i) {
      a.x.push_back(i * 25);
      a.y.push_back(2.3 * std::exp(-0.05 * i * (s + 1)) + 0.1 * s);
      b.x.push_back(i * 25);
      b.y.push_back(i == 17 ? NAN : 40.0 * i / 40 / (s + 1));  // a gap
    }
    top.series.push_back(a);
    bottom.series.push_back(b);
  }
  c.panels = {top, bottom};
  c.notes = {"a note under the figure"};
  return c;
}

chart::Heatmap fixed_heatmap() {
  chart::Heatmap h;
  h.title = "A fixed heatmap";
  h.subtitle = "golden-file input";
  h.x_label = "depth (layers)";
  h.y_label = "sigma_w2";
  h.colour_label = "value (decades)";
  for (int p = 0; p < 2; ++p) {
    chart::HeatmapPanel panel;
    panel.title = p == 0 ? "left" : "right";
    for (int i = 0; i < 12; ++i) panel.x.push_back(5 + 5 * i);
    for (int j = 0; j < 9; ++j) panel.y.push_back(0.5 + 0.25 * j);
    for (int j = 0; j < 9; ++j)
      for (int i = 0; i < 12; ++i)
        panel.z.push_back(j == 4 && i == 6 ? NAN : std::sin(0.3 * i + p) * (j + 1) / 9.0);
    chart::Series line{"line " + panel.title, {}, {}, 7, svg::Dash::solid};
    for (int i = 0; i < 12; ++i) {
      line.x.push_back(5 + 5 * i);
      line.y.push_back(1.0 + 0.1 * i);
    }
    panel.overlays.push_back(line);
    h.panels.push_back(panel);
  }
  h.legend = {{"a line", 7, svg::Dash::solid}};
  return h;
}

void check_golden(const std::string& name, const std::string& svg) {
  const std::string path = std::string(GRADFLOW_SOURCE_DIR) + "/tests/golden/" + name;
  if (std::getenv("GRADFLOW_UPDATE_GOLDEN")) test::write_file(path, svg);
  REQUIRE(test::file_exists(path));
  CHECK(test::read_file(path) == svg);
}

void check_self_contained(const std::string& svg) {
  for (const char* banned : {"<script", "@font-face", "url(", "href", "<image", "<foreignObject"})
    CHECK(svg.find(banned) == std::string::npos);
}

}  // namespace

TEST_CASE("line chart: well-formed, titled, one group per series, golden bytes") {
  const std::string svg = chart::line_chart(fixed_line_chart());
  const test::XmlResult x = check_xml(svg);
  REQUIRE_MESSAGE(x.ok, x.error);
  CHECK(x.count("svg") == 1);
  CHECK(x.count("title") == 1);
  CHECK(x.count("g", "class", "series") == 6);
  CHECK(x.count("g", "class", "legend") == 1);
  CHECK(svg.find("A fixed chart &amp; its &lt;legend&gt;") != std::string::npos);
  check_self_contained(svg);
  CHECK(chart::line_chart(fixed_line_chart()) == svg);
  check_golden("line_chart.svg", svg);
}

TEST_CASE("heatmap: well-formed, cells and a colour bar, golden bytes") {
  const std::string svg = chart::heatmap(fixed_heatmap());
  const test::XmlResult x = check_xml(svg);
  REQUIRE_MESSAGE(x.ok, x.error);
  CHECK(x.count("g", "class", "cells") == 2);
  CHECK(x.count("g", "class", "series") == 2);
  CHECK(x.count("g", "class", "colourbar") == 1);
  CHECK(x.count("rect", "fill", "#dddddd") == 2);  // the missing cell, in each panel
  check_self_contained(svg);
  check_golden("heatmap.svg", svg);
}

TEST_CASE("the XML check rejects what is not well-formed") {
  CHECK(check_xml("<svg><g></svg>").ok == false);
  CHECK(check_xml("<svg a=1/>").ok == false);
  CHECK(check_xml("<svg a=\"1\" a=\"2\"/>").ok == false);
  CHECK(check_xml("<svg>a & b</svg>").ok == false);
  CHECK(check_xml("<svg/><svg/>").ok == false);
  CHECK(check_xml("<?xml version=\"1.0\"?>\n<svg><text>a &amp; b</text></svg>\n").ok);
}

TEST_CASE("palette and colour map: distinct, viridis ends and monotone lightness") {
  CHECK(svg::palette().size() == 8);
  CHECK(svg::viridis(0).hex() == "#440154");
  CHECK(svg::viridis(1).hex() == "#fde725");
  double last = -1;
  for (int i = 0; i <= 32; ++i) {
    const svg::Rgb c = svg::viridis(i / 32.0);
    const double luma = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;  // readable in grey: lightness only rises
    CHECK(luma > last);
    last = luma;
  }
  CHECK(svg::nice_ticks(0, 1, 5) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0});
  CHECK(svg::tick_label(-2, 1) == "\u22122");
  CHECK(svg::num(-0.001) == "0.00");
}

TEST_CASE("analyze's plot: a line per activation, theory dashed, dead units for relu") {
  AnalysisConfig c;
  c.activations = {"tanh", "relu"};
  c.depth = 6;
  c.width = {64};
  c.batch = 16;
  c.threads = 1;
  const AnalysisResult r = run_analysis(c);
  std::vector<TheoryComparison> t;
  for (const RunResult& run : r.runs) t.push_back(compare_with_theory(c, run));
  const std::string plain = analyze_plot(r, nullptr), with = analyze_plot(r, &t);
  const test::XmlResult a = check_xml(plain), b = check_xml(with);
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  // Upper: 2 gradient lines; lower: 2 saturated + 1 dead (relu). With theory: + 2 + 1 dashed.
  CHECK(a.count("g", "class", "series") == 5);
  CHECK(b.count("g", "class", "series") == 8);
  CHECK(b.count("g", "data-name", "relu (he_normal) theory") == 1);
  CHECK(analyze_plot(r, &t) == with);
}

TEST_CASE("phase plot: one heatmap panel per activation, each with its critical line") {
  TheoryConfig c;
  c.activations = {"tanh", "relu"};
  c.phase_diagram = true;
  c.sigma_w2 = parse_range("1:3:0.5");
  c.sigma_b2 = parse_range("0:0.1:0.05");
  const auto d = run_phase_diagram(c);
  const std::string svg = phase_plot(c, d, PhaseMetric::xi_c);
  const test::XmlResult x = check_xml(svg);
  REQUIRE(x.ok);
  CHECK(x.count("g", "class", "cells") == 2);
  CHECK(x.count("g", "class", "series") == 2);
  CHECK(x.count("rect") > 2 * 15);
}

TEST_CASE("train's plot: loss, error and units against steps, a line per run, the target dashed") {
  TrainConfig c;
  c.net.activations = {"tanh", "relu"};
  c.net.depth = 3;
  c.net.width = {16};
  c.net.batch = 16;
  c.net.threads = 1;
  c.seeds = {0, 1};
  c.data.n_train = 100;
  c.data.n_test = 0;
  c.eval_batch = 100;
  c.steps = 20;
  c.log_every = 5;
  const TrainResult r = run_training(c, load_dataset(c));
  const std::string svg = train_plot(r);
  const test::XmlResult x = check_xml(svg);
  REQUIRE(x.ok);
  // 4 runs: loss, error and top-layer saturation each; dead units for the 2 relu runs; the target.
  CHECK(x.count("g", "class", "series") == 4 * 3 + 2 + 1);
  CHECK(x.count("g", "data-name", "relu seed 1 dead") == 1);
  CHECK(x.count("g", "data-name", "tanh seed 1 dead") == 0);
  CHECK(x.count("g", "data-name", "target") == 1);
  CHECK(train_plot(r) == svg);
}

TEST_CASE("the dead share of all hidden units weights each layer by its width") {
  LogRecord r;
  r.layers.resize(2);
  r.layers[0].dead_units_frac = 0.5;   // 5 of 10 units
  r.layers[1].dead_units_frac = 0.25;  // 10 of 40
  const std::vector<Index> widths{10, 40};
  CHECK(hidden_dead_frac(r, widths) == doctest::Approx(15.0 / 50.0));
  r.layers[1].dead_units_frac = kNaN;
  CHECK(std::isnan(hidden_dead_frac(r, widths)));
}
