#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/xml.h"

namespace gf::svg {

std::string Rgb::hex() const { return fmt::format("#{:02x}{:02x}{:02x}", r, g, b); }

namespace {

constexpr Rgb kOkabeIto[] = {
    {0, 114, 178},    // blue
    {230, 159, 0},    // orange
    {0, 158, 115},    // bluish green
    {213, 94, 0},     // vermillion
    {86, 180, 233},   // sky blue
    {204, 121, 167},  // reddish purple
    {240, 228, 66},   // yellow
    {0, 0, 0},        // black
};

// matplotlib's viridis at t = 0, 1/8, ..., 1; interpolated linearly between.
constexpr Rgb kViridis[] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                            {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};

// Paul Tol's BuRd, 9 steps from blue to red through a light grey (personal.sron.nl/~pault).
constexpr Rgb kBuRd[] = {{0x21, 0x66, 0xAC}, {0x43, 0x93, 0xC3}, {0x92, 0xC5, 0xDE}, {0xD1, 0xE5, 0xF0}, {0xF7, 0xF7, 0xF7},
                         {0xFD, 0xDB, 0xC7}, {0xF4, 0xA5, 0x82}, {0xD6, 0x60, 0x4D}, {0xB2, 0x18, 0x2B}};

template <std::size_t N>
Rgb interpolate(const Rgb (&stops)[N], double t) {
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * (N - 1);
  const int i = std::min(static_cast<int>(N) - 2, static_cast<int>(t));
  const double f = t - i;
  const Rgb a = stops[i], b = stops[i + 1];
  auto mix = [f](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + f * (static_cast<double>(y) - x)));
  };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

const char* dash_attr(Dash d) {
  switch (d) {
    case Dash::solid: return "";
    case Dash::dashed: return " stroke-dasharray=\"7 4\"";
    case Dash::dotted: return " stroke-dasharray=\"2 3\"";
    case Dash::dash_dot: return " stroke-dasharray=\"8 3 2 3\"";
  }
  return "";
}

const char* anchor_name(Document::Anchor a) {
  switch (a) {
    case Document::Anchor::start: return "start";
    case Document::Anchor::middle: return "middle";
    case Document::Anchor::end: return "end";
  }
  return "start";
}

}  // namespace

std::span<const Rgb> palette() { return kOkabeIto; }
Rgb palette_colour(int i) {
  const int n = static_cast<int>(std::size(kOkabeIto));
  return kOkabeIto[((i % n) + n) % n];
}

Rgb viridis(double t) { return interpolate(kViridis, t); }

Rgb diverging(double t) { return interpolate(kBuRd, t); }

double text_width(std::string_view s, double size, bool bold) {
  std::size_t chars = 0;
  for (const unsigned char ch : s) chars += (ch & 0xC0) != 0x80;  // UTF-8: one per character
  return 0.62 * size * static_cast<double>(chars) * (bold ? 1.1 : 1.0);
}

std::vector<std::string> wrap_text(std::string_view s, double width, double size, bool bold) {
  std::vector<std::string> lines;
  const auto max_chars = static_cast<std::size_t>(std::max(1.0, std::floor(width / text_width("x", size, bold))));
  while (text_width(s, size, bold) > width) {
    std::size_t cut = s.rfind(' ', max_chars);
    if (cut == std::string_view::npos || cut == 0) cut = max_chars;
    lines.emplace_back(s.substr(0, cut));
    s.remove_prefix(std::min(s.size(), s[std::min(cut, s.size() - 1)] == ' ' ? cut + 1 : cut));
  }
  if (!s.empty() || lines.empty()) lines.emplace_back(s);
  return lines;
}

std::string num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  if (s == "-0.00") s = "0.00";
  return s;
}

Marker marker_for(int i) {
  constexpr Marker kShapes[] = {Marker::circle, Marker::square, Marker::triangle, Marker::diamond,
                                Marker::triangle_down, Marker::cross};
  return kShapes[((i % 6) + 6) % 6];
}

Document::Document(double width, double height, std::string_view title, std::string_view description)
    : width_(width), height_(height) {
  out_ = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<title>{2}</title>\n<desc>{3}</desc>\n",
      num(width), num(height), xml_escape(title), xml_escape(description));
  rect(0, 0, width, height, "#ffffff");
}

void Document::rect(double x, double y, double w, double h, std::string_view fill, std::string_view stroke,
                    double stroke_width) {
  out_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"", num(x), num(y),
                      num(w), num(h), fill);
  if (stroke != "none") out_ += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", stroke, num(stroke_width));
  out_ += "/>\n";
}

void Document::line(double x1, double y1, double x2, double y2, std::string_view stroke, double width,
                    Dash dash) {
  out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
                      num(x1), num(y1), num(x2), num(y2), stroke, num(width), dash_attr(dash));
}

void Document::path(std::span<const Point> points, std::string_view stroke, double width, Dash dash) {
  std::string d;
  bool pen_down = false;
  for (const Point& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      pen_down = false;
      continue;
    }
    d += fmt::format("{}{} {} ", pen_down ? "L" : "M", num(p.x), num(p.y));
    pen_down = true;
  }
  if (d.empty()) return;
  d.pop_back();
  out_ += fmt::format(
      "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\" "
      "stroke-linecap=\"round\"{}/>\n",
      d, stroke, num(width), dash_attr(dash));
}

void Document::marker(Marker m, double x, double y, double s, std::string_view colour) {
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  const double r = s / 2;
  switch (m) {
    case Marker::none: return;
    case Marker::circle:
      out_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"/>\n", num(x), num(y), num(r), colour);
      return;
    case Marker::square: rect(x - r, y - r, s, s, colour); return;
    case Marker::triangle:
    case Marker::triangle_down: {
      const double k = m == Marker::triangle ? 1 : -1;
      out_ += fmt::format("<path d=\"M{} {} L{} {} L{} {} Z\" fill=\"{}\"/>\n", num(x), num(y - k * r * 1.15),
                          num(x + r * 1.1), num(y + k * r * 0.85), num(x - r * 1.1), num(y + k * r * 0.85), colour);
      return;
    }
    case Marker::diamond:
      out_ += fmt::format("<path d=\"M{} {} L{} {} L{} {} L{} {} Z\" fill=\"{}\"/>\n", num(x), num(y - r * 1.3),
                          num(x + r), num(y), num(x), num(y + r * 1.3), num(x - r), num(y), colour);
      return;
    case Marker::cross:
      line(x - r, y - r, x + r, y + r, colour, 1.8);
      line(x - r, y + r, x + r, y - r, colour, 1.8);
      return;
  }
}

void Document::text(double x, double y, std::string_view s, double size, Anchor anchor, bool bold,
                    double rotate, std::string_view fill) {
  out_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"", num(x), num(y), num(size), fill);
  if (anchor != Anchor::start) out_ += fmt::format(" text-anchor=\"{}\"", anchor_name(anchor));
  if (bold) out_ += " font-weight=\"bold\"";
  if (rotate != 0) out_ += fmt::format(" transform=\"rotate({} {} {})\"", num(rotate), num(x), num(y));
  out_ += fmt::format(">{}</text>\n", xml_escape(s));
}

void Document::begin_group(std::string_view cls, std::string_view name, bool crisp) {
  out_ += fmt::format("<g class=\"{}\"", xml_escape(cls));
  if (!name.empty()) out_ += fmt::format(" data-name=\"{}\"", xml_escape(name));
  if (crisp) out_ += " shape-rendering=\"crispEdges\"";
  out_ += ">\n";
  ++open_groups_;
}

void Document::end_group() {
  if (open_groups_ == 0) return;
  out_ += "</g>\n";
  --open_groups_;
}

std::string Document::finish() {
  while (open_groups_ > 0) end_group();
  out_ += "</svg>\n";
  return std::move(out_);
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integers) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (integers && m == 2.5 && mag < 10) continue;
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  if (integers) step = std::max(1.0, step);
  std::vector<double> ticks;
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; first + i * step <= hi + 1e-9 * step && i < 1000; ++i) {
    double t = first + i * step;
    if (std::abs(t) < 1e-12 * step) t = 0;
    t = std::stod(fmt::format("{:.12g}", t));  // 0.6, not 0.6000000000000001
    ticks.push_back(t);
  }
  return ticks;
}

void nice_range(double& lo, double& hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    lo -= 0.5;
    hi += 0.5;
  }
  const std::vector<double> t = nice_ticks(lo, hi, target);
  const double step = t.size() > 1 ? t[1] - t[0] : (hi - lo);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
}

std::string tick_label(double v, double step) {
  int decimals = 0;
  if (step > 0 && step < 1) decimals = std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  // 2.5-steps need one decimal more than their magnitude.
  if (step > 0 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find_first_not_of("-0.") == std::string::npos) s = fmt::format("{:.{}f}", 0.0, decimals);
  if (s[0] == '-') s = "\u2212" + s.substr(1);  // a real minus sign
  return s;
}

void draw_axes(Document& doc, const Box& box, const Scale& x, const Scale& y, std::span<const double> x_ticks,
               std::span<const double> y_ticks, bool x_labels) {
  doc.begin_group("axes");
  doc.rect(box.x, box.y, box.w, box.h, "#ffffff", "#444444", 1);
  const double xstep = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  const double ystep = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (double t : y_ticks) {
    const double py = y(t);
    if (py < box.y - 0.5 || py > box.y + box.h + 0.5) continue;
    doc.line(box.x, py, box.x + box.w, py, "#e3e3e3", 1);
    doc.line(box.x - 4, py, box.x, py, "#444444", 1);
    doc.text(box.x - 7, py + 4, tick_label(t, ystep), 11, Document::Anchor::end);
  }
  for (double t : x_ticks) {
    const double px = x(t);
    if (px < box.x - 0.5 || px > box.x + box.w + 0.5) continue;
    doc.line(px, box.y, px, box.y + box.h, "#e3e3e3", 1);
    doc.line(px, box.y + box.h, px, box.y + box.h + 4, "#444444", 1);
    if (x_labels) doc.text(px, box.y + box.h + 17, tick_label(t, xstep), 11, Document::Anchor::middle);
  }
  doc.rect(box.x, box.y, box.w, box.h, "none", "#444444", 1);
  doc.end_group();
}

double draw_legend(Document& doc, double x, double y, std::span<const LegendEntry> entries,
                   std::string_view heading, std::size_t wrap) {
  doc.begin_group("legend");
  double cy = y;
  if (!heading.empty()) {  // wrapped to the labels' column
    for (const std::string& line : wrap_text(heading, 38 + text_width(std::string(wrap, 'x'), 11.5), 12, true)) {
      doc.text(x, cy + 4, line, 12, Document::Anchor::start, true);
      cy += 16;
    }
    cy += 2;
  }
  for (const LegendEntry& e : entries) {
    const std::string colour = palette_colour(e.colour).hex();
    if (e.line) doc.line(x, cy, x + 30, cy, colour, 2, e.dash);
    doc.marker(e.marker, x + 15, cy, 7, colour);
    // Long labels wrap at a space so that they stay within the legend's column.
    std::string_view rest = e.label;
    double ly = cy + 4;
    while (rest.size() > wrap) {
      std::size_t cut = rest.rfind(' ', wrap);
      if (cut == std::string_view::npos || cut == 0) cut = wrap;
      doc.text(x + 38, ly, rest.substr(0, cut), 11.5);
      rest.remove_prefix(std::min(rest.size(), cut + 1));
      ly += 14;
      cy += 14;
    }
    doc.text(x + 38, ly, rest, 11.5);
    cy += 18;
  }
  doc.end_group();
  return cy - y;
}

}  // namespace gf::svg
