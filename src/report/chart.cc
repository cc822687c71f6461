#include "report/chart.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace gf::chart {

using svg::Document;

namespace {

constexpr double kLeft = 78, kLegendWidth = 220, kTop = 64;

// Text wider than the space it has is wrapped, so that nothing leaves the canvas.
std::vector<std::string> title_lines(const std::string& title, double width) {
  return svg::wrap_text(title, width - kLeft - 10, 16, true);
}
std::vector<std::string> subtitle_lines(const std::string& subtitle, double width) {
  return subtitle.empty() ? std::vector<std::string>{} : svg::wrap_text(subtitle, width - kLeft - 10, 12);
}
std::vector<std::string> note_lines(const std::vector<std::string>& notes, double width) {
  std::vector<std::string> lines;
  for (const std::string& n : notes)
    for (std::string& l : svg::wrap_text(n, width - kLeft - 10, 11)) lines.push_back(std::move(l));
  return lines;
}

// The space a title and subtitle take beyond the one line of each that kTop makes room for.
double header_extra(const std::string& title, const std::string& subtitle, double width) {
  const double lines = static_cast<double>(title_lines(title, width).size()) - 1 +
                       std::max(0.0, static_cast<double>(subtitle_lines(subtitle, width).size()) - 1);
  return 17 * lines;
}

void header(Document& doc, const std::string& title, const std::string& subtitle) {
  double y = 26;
  for (const std::string& line : title_lines(title, doc.width())) {
    doc.text(kLeft, y, line, 16, Document::Anchor::start, true);
    y += 17;
  }
  y += 2;
  for (const std::string& line : subtitle_lines(subtitle, doc.width())) {
    doc.text(kLeft, y, line, 12, Document::Anchor::start, false, 0, "#555555");
    y += 17;
  }
}

double footer(Document& doc, double y, const std::vector<std::string>& notes) {
  for (const std::string& n : note_lines(notes, doc.width())) {
    doc.text(kLeft, y, n, 11, Document::Anchor::start, false, 0, "#555555");
    y += 15;
  }
  return y;
}

void finite_range(const std::vector<double>& v, double& lo, double& hi) {
  for (double x : v)
    if (std::isfinite(x)) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
}

void draw_series(Document& doc, const Series& s, const svg::Scale& xs, const svg::Scale& ys, const svg::Box& box) {
  doc.begin_group("series", s.name);
  std::vector<svg::Point> pts;
  const std::size_t n = std::min(s.x.size(), s.y.size());
  for (std::size_t i = 0; i < n; ++i) {
    double py = ys(s.y[i]);
    if (std::isfinite(py)) py = std::clamp(py, box.y, box.y + box.h);
    pts.push_back({xs(s.x[i]), std::isfinite(s.y[i]) ? py : NAN});
  }
  const std::string colour = svg::palette_colour(s.colour).hex();
  doc.path(pts, colour, 2, s.dash);
  if (s.marker != svg::Marker::none) {
    const std::size_t every = std::max<std::size_t>(1, (n + 19) / 20);
    for (std::size_t i = 0; i < n; i += every) doc.marker(s.marker, pts[i].x, pts[i].y, 7, colour);
    if (n > 0 && (n - 1) % every != 0) doc.marker(s.marker, pts[n - 1].x, pts[n - 1].y, 7, colour);
  }
  doc.end_group();
}

std::vector<svg::LegendEntry> legend_of(const std::vector<Panel>& panels) {
  std::vector<svg::LegendEntry> out;
  for (const Panel& p : panels)
    for (const Series& s : p.series) {
      if (!s.in_legend) continue;
      if (std::any_of(out.begin(), out.end(), [&](const auto& e) { return e.label == s.name; })) continue;
      out.push_back({s.name, s.colour, s.dash, s.marker, true});
    }
  return out;
}

}  // namespace

std::string line_chart(const LineChart& c) {
  const double gap = 44;
  const double n_panels = static_cast<double>(std::max<std::size_t>(1, c.panels.size()));
  const double plot_w = c.width - kLeft - kLegendWidth - 10;
  const double bottom = 46 + 15 * static_cast<double>(note_lines(c.notes, c.width).size());
  const double top = kTop + header_extra(c.title, c.subtitle, c.width);
  const double height = top + n_panels * c.panel_height + (n_panels - 1) * gap + bottom;
  Document doc(c.width, height, c.title, c.subtitle);
  header(doc, c.title, c.subtitle);

  double x_lo = c.x_min, x_hi = c.x_max;
  if (std::isnan(x_lo) || std::isnan(x_hi)) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Panel& p : c.panels)
      for (const Series& s : p.series) finite_range(s.x, lo, hi);
    if (std::isnan(x_lo)) x_lo = lo;
    if (std::isnan(x_hi)) x_hi = hi;
    if (!std::isfinite(x_lo) || !std::isfinite(x_hi)) x_lo = 0, x_hi = 1;
    if (x_hi <= x_lo) x_hi = x_lo + 1;
  }
  const std::vector<double> x_ticks = svg::nice_ticks(x_lo, x_hi, 8, c.x_integer);

  double y0 = top;
  for (std::size_t pi = 0; pi < c.panels.size(); ++pi) {
    const Panel& p = c.panels[pi];
    const svg::Box box{kLeft, y0, plot_w, c.panel_height};
    double lo = p.y_min, hi = p.y_max;
    if (std::isnan(lo) || std::isnan(hi)) {
      double dlo = INFINITY, dhi = -INFINITY;
      for (const Series& s : p.series) finite_range(s.y, dlo, dhi);
      if (!std::isfinite(dlo)) dlo = 0, dhi = 1;
      if (std::isnan(lo)) lo = dlo;
      if (std::isnan(hi)) hi = dhi;
      svg::nice_range(lo, hi, 5);
    }
    const svg::Scale xs{x_lo, x_hi, box.x, box.x + box.w};
    const svg::Scale ys{lo, hi, box.y + box.h, box.y};
    svg::draw_axes(doc, box, xs, ys, x_ticks, svg::nice_ticks(lo, hi, 5));
    doc.text(box.x - 52, box.y + box.h / 2, p.y_label, 12, Document::Anchor::middle, false, -90);
    for (const Series& s : p.series) draw_series(doc, s, xs, ys, box);
    y0 += c.panel_height + gap;
  }
  const double x_axis_y = y0 - gap + 36;
  doc.text(kLeft + plot_w / 2, x_axis_y, c.x_label, 12, Document::Anchor::middle);
  const std::vector<svg::LegendEntry> entries = c.legend.empty() ? legend_of(c.panels) : c.legend;
  const double legend_x = kLeft + plot_w + 22;  // labels wrap to the room left at the right
  const auto wrap = static_cast<std::size_t>((c.width - legend_x - 38 - 4) / svg::text_width("x", 11.5));
  svg::draw_legend(doc, legend_x, top + 6, entries, c.legend_heading, wrap);
  footer(doc, x_axis_y + 22, c.notes);
  return doc.finish();
}

namespace {

// Cell edges from centres: halfway between neighbours, half a step beyond the ends.
std::vector<double> edges(const std::vector<double>& centres) {
  const std::size_t n = centres.size();
  std::vector<double> e(n + 1);
  if (n == 1) {
    e[0] = centres[0] - 0.5;
    e[1] = centres[0] + 0.5;
    return e;
  }
  for (std::size_t i = 1; i < n; ++i) e[i] = 0.5 * (centres[i - 1] + centres[i]);
  e[0] = centres[0] - (e[1] - centres[0]);
  e[n] = centres[n - 1] + (centres[n - 1] - e[n - 1]);
  return e;
}

}  // namespace

std::vector<std::pair<svg::Point, svg::Point>> contour_segments(const HeatmapPanel& p, double level) {
  std::vector<std::pair<svg::Point, svg::Point>> out;
  const std::size_t nx = p.x.size(), ny = p.y.size();
  auto z = [&](std::size_t ix, std::size_t iy) { return p.z[iy * nx + ix]; };
  for (std::size_t iy = 0; iy + 1 < ny; ++iy)
    for (std::size_t ix = 0; ix + 1 < nx; ++ix) {
      // Corners counter-clockwise from the lower left; edge k runs from corner k to k+1.
      const svg::Point at[4] = {{p.x[ix], p.y[iy]}, {p.x[ix + 1], p.y[iy]}, {p.x[ix + 1], p.y[iy + 1]}, {p.x[ix], p.y[iy + 1]}};
      const double v[4] = {z(ix, iy), z(ix + 1, iy), z(ix + 1, iy + 1), z(ix, iy + 1)};
      if (!std::all_of(std::begin(v), std::end(v), [](double x) { return std::isfinite(x); })) continue;
      std::vector<int> edges;
      svg::Point cross[4];
      for (int k = 0; k < 4; ++k) {
        const int k2 = (k + 1) % 4;
        if ((v[k] >= level) == (v[k2] >= level)) continue;
        const double t = (level - v[k]) / (v[k2] - v[k]);
        cross[k] = {at[k].x + t * (at[k2].x - at[k].x), at[k].y + t * (at[k2].y - at[k].y)};
        edges.push_back(k);
      }
      if (edges.size() == 2) {
        out.push_back({cross[edges[0]], cross[edges[1]]});
      } else if (edges.size() == 4) {  // a saddle: the centre's side decides which corners join
        const bool joined = ((v[0] + v[1] + v[2] + v[3]) / 4 >= level) == (v[0] >= level);
        if (joined) out.insert(out.end(), {{cross[0], cross[1]}, {cross[2], cross[3]}});
        else out.insert(out.end(), {{cross[3], cross[0]}, {cross[1], cross[2]}});
      }
    }
  return out;
}

std::string heatmap(const Heatmap& h) {
  const double n = static_cast<double>(std::max<std::size_t>(1, h.panels.size()));
  const double plot_h = h.height;
  // The colour bar's label runs down the bar, wrapped to its height, in at most three lines (the
  // bar's column widens for each), a longer one cut with an ellipsis.
  std::vector<std::string> label = svg::wrap_text(h.colour_label, plot_h, 12);
  if (label.size() > 3) {
    label.resize(3);
    while (!label[2].empty() && svg::text_width(label[2] + "...", 12) > plot_h) label[2].pop_back();
    label[2] += "...";
  }
  const double bar_w = 110 + 15 * static_cast<double>(label.size() - 1), gap = 28;
  const double panel_w = (h.width - kLeft - bar_w - 10 - (n - 1) * gap) / n;
  const auto legend_wrap = static_cast<std::size_t>((h.width - kLeft - 48) / svg::text_width("x", 11.5));
  double legend_h = 0;
  if (!h.legend.empty()) {  // measured by drawing it once aside: wrapped labels take more lines
    Document scratch(h.width, 1, "", "");
    legend_h = svg::draw_legend(scratch, kLeft, 0, h.legend, "", legend_wrap) + 8;
  }
  const double top = kTop + 18 + header_extra(h.title, h.subtitle, h.width);
  const double total_h = top + plot_h + 52 + legend_h + 15 * static_cast<double>(note_lines(h.notes, h.width).size());
  Document doc(h.width, total_h, h.title, h.subtitle);
  header(doc, h.title, h.subtitle);

  double z_lo = h.z_min, z_hi = h.z_max;
  if (std::isnan(z_lo) || std::isnan(z_hi)) {
    double lo = INFINITY, hi = -INFINITY;
    for (const HeatmapPanel& p : h.panels) finite_range(p.z, lo, hi);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (std::isnan(z_lo)) z_lo = lo;
    if (std::isnan(z_hi)) z_hi = hi;
  }
  const bool signed_scale = std::isfinite(h.centre);
  if (signed_scale) {  // symmetric about the centre, so that equal colours mean equal distances
    const double half = std::max(std::fabs(z_lo - h.centre), std::fabs(z_hi - h.centre));
    z_lo = h.centre - half;
    z_hi = h.centre + half;
  }
  if (z_hi <= z_lo) z_hi = z_lo + 1;
  auto colour_at = [&](double t) { return signed_scale ? svg::diverging(t) : svg::viridis(t); };
  auto colour_of = [&](double v) { return colour_at((v - z_lo) / (z_hi - z_lo)).hex(); };

  for (std::size_t pi = 0; pi < h.panels.size(); ++pi) {
    const HeatmapPanel& p = h.panels[pi];
    const svg::Box box{kLeft + static_cast<double>(pi) * (panel_w + gap), top, panel_w, plot_h};
    const std::vector<double> xe = edges(p.x), ye = edges(p.y);
    const svg::Scale xs{xe.front(), xe.back(), box.x, box.x + box.w};
    const svg::Scale ys{ye.front(), ye.back(), box.y + box.h, box.y};
    doc.text(box.x + box.w / 2, box.y - 8, p.title, 13, Document::Anchor::middle, true);
    doc.begin_group("cells", p.title, true);
    for (std::size_t iy = 0; iy < p.y.size(); ++iy)
      for (std::size_t ix = 0; ix < p.x.size(); ++ix) {
        const double v = p.z[iy * p.x.size() + ix];
        const double x0 = xs(xe[ix]), x1 = xs(xe[ix + 1]), y0 = ys(ye[iy + 1]), y1 = ys(ye[iy]);
        // A hair wider than the cell, so that anti-aliasing leaves no seams.
        doc.rect(x0, y0, x1 - x0 + 0.3, y1 - y0 + 0.3, std::isfinite(v) ? colour_of(v) : "#dddddd");
      }
    doc.end_group();
    if (signed_scale && h.contour) {
      doc.begin_group("contour", p.title);
      for (const auto& [a, b] : contour_segments(p, h.centre)) {
        const svg::Point seg[2] = {{xs(a.x), ys(a.y)}, {xs(b.x), ys(b.y)}};
        doc.path(seg, "#000000", 1.5, svg::Dash::dashed);
      }
      doc.end_group();
    }
    const std::vector<double> xt = svg::nice_ticks(xe.front(), xe.back(), std::max(3, static_cast<int>(panel_w / 70)));
    const std::vector<double> yt = svg::nice_ticks(ye.front(), ye.back(), 6);
    // Axes over the cells: only the frame and ticks, no grid.
    doc.begin_group("axes");
    doc.rect(box.x, box.y, box.w, box.h, "none", "#444444", 1);
    const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
    for (double t : xt) {
      doc.line(xs(t), box.y + box.h, xs(t), box.y + box.h + 4, "#444444", 1);
      doc.text(xs(t), box.y + box.h + 17, svg::tick_label(t, xstep), 11, Document::Anchor::middle);
    }
    for (double t : yt) {
      doc.line(box.x - 4, ys(t), box.x, ys(t), "#444444", 1);
      if (pi == 0) doc.text(box.x - 7, ys(t) + 4, svg::tick_label(t, ystep), 11, Document::Anchor::end);
    }
    doc.end_group();
    for (const Series& s : p.overlays) {
      doc.begin_group("series", s.name);
      std::vector<svg::Point> pts;
      for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
        const bool inside = s.x[i] >= xe.front() && s.x[i] <= xe.back() && s.y[i] >= ye.front() && s.y[i] <= ye.back();
        pts.push_back(inside ? svg::Point{xs(s.x[i]), ys(s.y[i])} : svg::Point{NAN, NAN});
      }
      doc.path(pts, "#ffffff", 4.5, svg::Dash::solid);  // a halo: visible on every colour
      doc.path(pts, svg::palette_colour(s.colour).hex(), 2, s.dash);
      doc.end_group();
    }
    doc.text(box.x + box.w / 2, box.y + box.h + 36, h.x_label, 12, Document::Anchor::middle);
  }
  doc.text(kLeft - 52, top + plot_h / 2, h.y_label, 12, Document::Anchor::middle, false, -90);

  // The colour bar.
  const double bx = h.width - bar_w + 6, bw = 16;
  doc.begin_group("colourbar", "", true);
  constexpr int kSteps = 64;
  for (int i = 0; i < kSteps; ++i) {
    const double t0 = static_cast<double>(i) / kSteps;
    const double y = top + plot_h * (1 - t0 - 1.0 / kSteps);
    doc.rect(bx, y, bw, plot_h / kSteps + 0.3, colour_at(t0 + 0.5 / kSteps).hex());
  }
  doc.rect(bx, top, bw, plot_h, "none", "#444444", 1);
  const svg::Scale zs{z_lo, z_hi, top + plot_h, top};
  const std::vector<double> zt = svg::nice_ticks(z_lo, z_hi, 6);
  const double zstep = zt.size() > 1 ? zt[1] - zt[0] : 1;
  for (double t : zt) {
    doc.line(bx + bw, zs(t), bx + bw + 4, zs(t), "#444444", 1);
    doc.text(bx + bw + 7, zs(t) + 4, svg::tick_label(t, zstep), 11);
  }
  // Turned 90 degrees, a line's top faces right: the first line is the rightmost.
  for (std::size_t k = 0; k < label.size(); ++k)
    doc.text(bx + bw + 48 + 15 * static_cast<double>(label.size() - 1 - k), top + plot_h / 2, label[k], 12,
             Document::Anchor::middle, false, 90);
  doc.end_group();

  double y = top + plot_h + 58;
  if (!h.legend.empty()) y += svg::draw_legend(doc, kLeft, y, h.legend, "", legend_wrap) + 4;
  footer(doc, y, h.notes);
  return doc.finish();
}

}  // namespace gf::chart
