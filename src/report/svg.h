#pragma once
// A small SVG writer for gradflow's pictures: a document of rectangles, lines, paths, markers
// and text, a colour-blind-safe palette, a perceptually uniform colour map, linear scales with
// round ticks, axes and a legend. Output is self-contained (no scripts, no external fonts or
// images) and byte-for-byte the same for the same input: coordinates are printed with two
// decimals, never with the locale or a float's shortest form. chart.h builds whole figures.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gf::svg {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  std::string hex() const;  // "#rrggbb"
};

// Okabe & Ito (2008): colours told apart under every common colour-vision deficiency. Ordered
// so that neighbours also differ in lightness (for grey print): blue, orange, bluish green,
// vermillion, sky blue, reddish purple, yellow, black.
std::span<const Rgb> palette();
Rgb palette_colour(int i);  // cycles

// Viridis (van der Walt & Smith, matplotlib): perceptually uniform and monotone in lightness,
// so it reads in grey too. t in [0, 1].
Rgb viridis(double t);

// A diverging map for signed values, t = 0.5 at the centre (light grey), blue below, red above:
// Paul Tol's BuRd (colour-blind safe), interpolated linearly. t in [0, 1].
Rgb diverging(double t);

// How wide text is drawn, estimated: 0.62 em a character (DejaVu Sans averages under 0.6 em),
// bold 10% wider. Layout wraps and fits text with it, so that nothing leaves the canvas.
double text_width(std::string_view s, double size, bool bold = false);
// Lines of at most `width` pixels at `size`, broken at spaces (a longer word is cut).
std::vector<std::string> wrap_text(std::string_view s, double width, double size, bool bold = false);

std::string num(double v);            // two decimals, "-0.00" printed as "0.00"

enum class Dash { solid, dashed, dotted, dash_dot };
enum class Marker { none, circle, square, triangle, diamond, triangle_down, cross };
Marker marker_for(int i);  // a different shape for each series: legible without colour

struct Point {
  double x = 0, y = 0;
};

class Document {
 public:
  Document(double width, double height, std::string_view title, std::string_view description);
  double width() const { return width_; }
  double height() const { return height_; }

  void rect(double x, double y, double w, double h, std::string_view fill, std::string_view stroke = "none",
            double stroke_width = 0);
  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double width,
            Dash dash = Dash::solid);
  // A polyline; non-finite points break it into pieces.
  void path(std::span<const Point> points, std::string_view stroke, double width, Dash dash);
  void marker(Marker m, double x, double y, double size, std::string_view colour);
  enum class Anchor { start, middle, end };
  void text(double x, double y, std::string_view s, double size, Anchor anchor = Anchor::start,
            bool bold = false, double rotate = 0, std::string_view fill = "#222222");
  // <g class="..."> ... </g>, with an optional data-name for tests and tools.
  // crisp: shapes drawn edge to edge without anti-aliased seams (heatmap cells).
  void begin_group(std::string_view cls, std::string_view name = "", bool crisp = false);
  void end_group();
  std::string finish();  // the whole document; the Document is spent

 private:
  std::string out_;
  double width_, height_;
  int open_groups_ = 0;
};

// Maps [lo, hi] to [px_lo, px_hi] (px_hi < px_lo for a y axis pointing up).
struct Scale {
  double lo = 0, hi = 1, px_lo = 0, px_hi = 1;
  double operator()(double v) const { return px_lo + (v - lo) / (hi - lo) * (px_hi - px_lo); }
};

// Round tick positions (1, 2, 5 x 10^k) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6, bool integers = false);  // integers: steps of 1, 2, 5, 10...
// [lo, hi] widened to the ticks around them (and to a unit interval if lo == hi).
void nice_range(double& lo, double& hi, int target = 6);
std::string tick_label(double v, double step);  // as many decimals as the step needs

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

// Frame, grid lines, ticks and tick labels of one plot box.
void draw_axes(Document& doc, const Box& box, const Scale& x, const Scale& y,
               std::span<const double> x_ticks, std::span<const double> y_ticks, bool x_labels = true);

struct LegendEntry {
  std::string label;
  int colour = 0;
  Dash dash = Dash::solid;
  Marker marker = Marker::none;
  bool line = true;  // a line sample, or only the marker
};
// Entries stacked downward from (x, y); returns the height used.
// Labels longer than `wrap` characters wrap at a space.
double draw_legend(Document& doc, double x, double y, std::span<const LegendEntry> entries,
                   std::string_view heading = "", std::size_t wrap = 27);

}  // namespace gf::svg
