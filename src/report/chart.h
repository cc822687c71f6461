#pragma once
// Whole figures on top of svg.h, generic enough for every command that draws: line charts of
// series against a shared x axis (layers, steps), stacked in panels with one legend; heatmaps of
// a value over two axes, in panels side by side with one colour bar. Each series is drawn in a
// <g class="series" data-name="..."> so tools and tests can find it.
#include <limits>
#include <string>
#include <vector>

#include "report/svg.h"

namespace gf::chart {

inline constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();

struct Series {
  std::string name;  // legend label and data-name
  std::vector<double> x, y;  // non-finite y: a gap
  int colour = 0;            // index into svg::palette()
  svg::Dash dash = svg::Dash::solid;
  svg::Marker marker = svg::Marker::none;
  bool in_legend = true;
};

struct Panel {
  std::string y_label;  // with its unit
  std::vector<Series> series;
  double y_min = kAuto, y_max = kAuto;  // fixed range; kAuto: from the data, widened to round ticks
};

struct LineChart {
  std::string title, subtitle, x_label;
  std::vector<Panel> panels;  // stacked top to bottom, sharing the x axis
  // Legend: these entries, or (when empty) one per distinct series name with in_legend set.
  std::vector<svg::LegendEntry> legend;
  std::string legend_heading;
  std::vector<std::string> notes;  // small print under the figure
  double width = 800, panel_height = 230;
  double x_min = kAuto, x_max = kAuto;
  bool x_integer = false;  // ticks only at whole numbers (layers)
};

std::string line_chart(const LineChart& c);

struct HeatmapPanel {
  std::string title;
  std::vector<double> x, y;    // cell centres, increasing
  std::vector<double> z;       // y outer, x inner; non-finite: no value (drawn light grey)
  std::vector<Series> overlays;  // lines over the cells, in data coordinates (e.g. the critical line)
};

struct Heatmap {
  std::string title, subtitle, x_label, y_label, colour_label;
  std::vector<HeatmapPanel> panels;  // side by side, one colour scale
  double z_min = kAuto, z_max = kAuto;  // colour range; values beyond are clipped to its ends
  // A signed value: a diverging colour scale centred here (its range symmetric about it), and,
  // with contour, the line where the value crosses it (0 for a log ratio, 1 for a factor).
  double centre = kAuto;
  bool contour = false;
  std::vector<svg::LegendEntry> legend;  // for the overlays
  std::vector<std::string> notes;
  double width = 800, height = 420;
};

// Long titles, subtitles, notes and the colour bar's label wrap: no text leaves the canvas.
std::string heatmap(const Heatmap& h);

// Where the value crosses `level`, by marching squares over the cell centres (linear between
// neighbours; cells without a value break the line): segments in data coordinates.
std::vector<std::pair<svg::Point, svg::Point>> contour_segments(const HeatmapPanel& p, double level);

}  // namespace gf::chart
