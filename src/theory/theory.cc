#include "theory/theory.h"

#include <charconv>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <stdexcept>
#include <thread>

#include "base/errors.h"
#include "base/interrupt.h"
#include "base/real_text.h"
#include "base/thread_team.h"
#include "core/analysis.h"
#include "core/enum_names.h"
#include "core/init.h"
#include "core/init_flags.h"
#include "core/params.h"
#include "theory/theory_notes.h"

namespace gf {

namespace {
constexpr std::size_t kMaxCells = 200000;

int thread_count(int t) {
  return t > 0 ? t : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// --sigma-w2 as one flag: the first value (validate allows more only with --phase-diagram).
InitFlags init_flags(const TheoryConfig& c) {
  return {c.init, c.gain, c.sigma_w2.empty() ? std::nullopt : std::optional<double>(c.sigma_w2[0]), c.weight_std};
}
}  // namespace

std::vector<double> parse_range(const std::string& text) {
  auto number = [](std::string_view s) {
    double v = 0;
    if (beyond_double_range(s))
      throw std::invalid_argument("'" + std::string(s) + "' is out of the range of a double");
    if (!parse_real_text(s, v)) throw std::invalid_argument("'" + std::string(s) + "' is not a number");
    return v;
  };
  const auto c1 = text.find(':');
  if (c1 == std::string::npos) return {number(text)};
  const auto c2 = text.find(':', c1 + 1);
  if (c2 == std::string::npos || text.find(':', c2 + 1) != std::string::npos)
    throw std::invalid_argument("a range is START:STOP:STEP");
  const double a = number(std::string_view(text).substr(0, c1));
  const double b = number(std::string_view(text).substr(c1 + 1, c2 - c1 - 1));
  const double step = number(std::string_view(text).substr(c2 + 1));
  if (!(step > 0)) throw std::invalid_argument("the STEP of a range must be above 0");
  if (b < a) throw std::invalid_argument("a range's STOP must not be below its START");
  const double count = std::floor((b - a) / step + 1e-9) + 1;
  if (count > static_cast<double>(kMaxCells)) throw std::invalid_argument("the range has too many values");
  std::vector<double> out;
  for (int i = 0; i < static_cast<int>(count); ++i) {
    // Rounded to 12 significant digits so that 0.1 + 3 * 0.05 prints as 0.25 (a value so small
    // that the rounded text underflows stays as computed).
    const double x = a + i * step;
    const std::string text = fmt::format("{:.12g}", x);
    double rounded = x;
    std::from_chars(text.data(), text.data() + text.size(), rounded);
    out.push_back(rounded);
  }
  return out;
}

void validate(const TheoryConfig& c) {
  if (c.activations.empty()) throw UsageError("--activation: give at least one activation");
  for (const std::string& a : c.activations)
    if (!find_activation(a)) throw UsageError(fmt::format("--activation: unknown activation '{}'", a));
  if (c.jacobian && c.phase_diagram)
    throw UsageError("--jacobian predicts one network's Jacobian, --phase-diagram a grid of them: give one");
  const bool named_init = c.init != "auto";
  check_init_flags(init_flags(c));
  check_residual_flags(c.residual, c.depth, c.init);
  if (c.residual != 0) {
    residual_alpha(c.residual_scale, c.depth, c.residual);
    if (c.norm == NormKind::batch) throw UsageError(residual_batchnorm_refusal(c.residual));
  }
  if ((c.residual != 0 || c.norm != NormKind::none) && (c.phase_diagram || c.jacobian))
    throw UsageError(fmt::format("--{} is for plain stacks without norms; drop it, or drop {}",
                                 c.phase_diagram ? "phase-diagram" : "jacobian",
                                 c.residual != 0 ? "--residual" : "--norm"));
  for (double v : c.sigma_w2)
    if (!(v > 0)) throw UsageError(fmt::format("--sigma-w2: {:g} is not allowed: every value must be above 0", v));
  for (double v : c.sigma_b2)
    if (!(v >= 0)) throw UsageError(fmt::format("--sigma-b2: {:g} is not allowed: every value must be 0 or more", v));
  if (!c.phase_diagram) {
    if (c.sigma_w2.size() > 1)
      throw UsageError("--sigma-w2: a range of values needs --phase-diagram; give one number");
    if (c.sigma_b2.size() > 1)
      throw UsageError("--sigma-b2: a range of values needs --phase-diagram; give one number");
  } else {
    if (named_init || c.weight_std || c.gain)
      throw UsageError("--phase-diagram sweeps --sigma-w2 itself: drop --init, --gain and --weight-std");
    const std::size_t cells = std::max<std::size_t>(1, c.sigma_w2.size()) * std::max<std::size_t>(1, c.sigma_b2.size());
    if (cells * c.activations.size() > kMaxCells)
      throw UsageError(fmt::format("--phase-diagram: {} cells is too many (at most {}): use a coarser "
                                   "STEP in --sigma-w2 or --sigma-b2",
                                   cells * c.activations.size(), kMaxCells));
  }
}

namespace {

Phi phi_of(const TheoryConfig& c, const std::string& name) { return {find_activation(name), c.leaky_slope}; }

bool relu_like(const Phi& phi) {
  const std::vector<Interval> zone = dead_zone(phi);
  return zone.size() == 1 && std::isinf(zone[0].lo) && zone[0].hi == 0;
}

// The network as `analyze` builds it (layer_op.h's builders; the input is as wide as the stream,
// so no projection), its weights as `analyze` draws them (core/init_flags.h: the same rule and
// label for --init and its companions).
NetworkSpec theory_network(const TheoryConfig& c, const Phi& phi) {
  NetworkSpec spec;
  spec.input_width = c.width;
  constexpr Index kClasses = 2;  // the head is dropped: the theory's gradient starts at layer L
  spec.ops = c.residual != 0
                 ? residual_stack(c.width, c.width, c.depth / c.residual, c.residual, *phi.act, phi.param,
                                  residual_alpha(c.residual_scale, c.depth, c.residual), kClasses, c.norm,
                                  c.norm_position, c.norm_eps)
                 : plain_stack(std::vector<Index>(static_cast<std::size_t>(c.depth), c.width), *phi.act, phi.param,
                               kClasses, c.norm, c.norm_eps);
  spec.weight_init = resolve_init(init_flags(c), *phi.act, spec);
  return spec;
}

// The residual or normed network's ops into m, each layer's sigma_w2 scaled by Fixup's rule
// where given.
void attach_ops(const NetworkSpec& spec, const InputMoments& in, MeanFieldModel& m) {
  for (Index l = 1; l <= static_cast<Index>(m.sigma_w2.size()); ++l) {
    const double f = init_factor(spec, l);
    m.sigma_w2[static_cast<std::size_t>(l - 1)] *= f * f;
  }
  m.ops.assign(spec.ops.begin(), spec.ops.end() - 1);
  m.input_mean = in.mean;
}

// What the numbers of a residual or normed network mean, and what they leave out.
std::vector<std::string> beyond_plain_notes(const TheoryConfig& c, const TheoryResult& r) {
  std::vector<std::string> notes;
  if (c.residual != 0)
    notes.push_back(residual_theory_note(
        fmt::format("residual blocks of {} layers, alpha {}", c.residual, c.residual_scale),
        "; the per-block figures are below"));
  if (c.norm != NormKind::none && c.residual != 0)
    notes.push_back(residual_norm_theory_note(c.norm, c.norm_position, ""));
  else if (c.norm != NormKind::none)
    notes.push_back(norm_theory_note(c.norm, {find_activation(r.activation), c.leaky_slope}, r.fixed.q_star,
                                     r.fixed.chi_1, fmt::format(" at width {}", c.width), " (c*, chi_c, xi_c: -)"));
  if ((c.residual == 0 || c.norm == NormKind::none) && c.norm_position != NormPosition::pre)  // as analyze says
    notes.push_back(fmt::format("--norm-position {} has no effect {}: it places the norm of residual blocks "
                                "(--residual K with --norm)",
                                norm_position_name(c.norm_position),
                                c.residual == 0 ? "on a plain stack" : "without --norm"));
  return notes;
}

}  // namespace

std::vector<TheoryResult> run_theory(const TheoryConfig& c) {
  validate(c);
  const InputMoments in = input_moments(c.input);
  const double sb2 = c.sigma_b2.empty() ? 0.0 : c.sigma_b2[0];
  std::vector<TheoryResult> out;
  for (const std::string& name : c.activations) {
    throw_if_interrupted();
    const Phi phi = phi_of(c, name);
    TheoryResult r;
    r.activation = name;
    const NetworkSpec net = theory_network(c, phi);
    r.init = net.weight_init.label;
    r.sigma_w2 = square_sigma_w2(net.weight_init, c.width);
    r.sigma_b2 = sb2;
    r.bias = c.bias_init;
    r.method = std::string(expect_method_name(phi, c.bias_init));
    MeanFieldModel m;
    m.phi = phi;
    m.sigma_w2.assign(static_cast<std::size_t>(c.depth), r.sigma_w2);
    m.sigma_b2 = sb2;
    m.bias = c.bias_init;
    m.input_m2 = in.m2;
    m.input_cross = in.cross;
    m.widths.assign(static_cast<std::size_t>(c.depth + 1), c.width);
    m.batch = c.batch;
    r.born_dead = kNaN;
    if (c.residual != 0 || c.norm != NormKind::none) attach_ops(net, in, m);
    r.layers = predict_layers(m, &r.blocks);
    if (c.jacobian) r.jacobian = predict_jacobian(m, r.layers, c.init == "orthogonal");
    r.fixed = network_fixed_point(m, r.layers, c.critical_tol, &r.sigma_w2);
    // Through a norm every sigma_w2 gives the same u: no edge of chaos to find.
    r.critical_sigma_w2 = c.norm == NormKind::none ? critical_sigma_w2(phi, sb2, c.bias_init, in.m2) : kNaN;
    r.trainable_depth = 6 * r.fixed.xi_c;
    r.notes = beyond_plain_notes(c, r);
    if (relu_like(phi) && sb2 == 0 && c.bias_init == 0 && c.residual == 0 && c.norm == NormKind::none) {
      const std::vector<long long> widths(static_cast<std::size_t>(c.depth), static_cast<long long>(c.width));
      r.born_dead = born_dead_probability(widths);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<PhaseDiagram> run_phase_diagram(const TheoryConfig& cfg) {
  TheoryConfig c = cfg;
  if (c.sigma_w2.empty()) c.sigma_w2 = parse_range(kDefaultSigmaW2Range);
  if (c.sigma_b2.empty()) c.sigma_b2 = parse_range(kDefaultSigmaB2Range);
  validate(c);
  const double m2 = input_moments(c.input).m2;
  const int threads = thread_count(c.threads);
  std::vector<PhaseDiagram> out;
  for (const std::string& name : c.activations) {
    const Phi phi = phi_of(c, name);
    PhaseDiagram d;
    d.activation = name;
    d.sigma_w2 = c.sigma_w2;
    d.sigma_b2 = c.sigma_b2;
    const std::size_t nw = d.sigma_w2.size(), nb = d.sigma_b2.size();
    d.cells.resize(nw * nb);
    d.critical.resize(nb);
    constexpr int kExtra = 40;
    std::vector<double> extra_b2(kExtra - 1), extra_w2(kExtra - 1);
    for (int k = 1; k < kExtra; ++k) {
      const double t = static_cast<double>(k) / kExtra;
      extra_b2[static_cast<std::size_t>(k - 1)] = d.sigma_b2.front() + (d.sigma_b2.back() - d.sigma_b2.front()) * t * t;
    }
    if (nb == 1) extra_b2.clear();
    // Each cell is computed on its own, so the thread count never changes a number.
    const auto cells = static_cast<std::ptrdiff_t>(nw * nb), rows = static_cast<std::ptrdiff_t>(nb);
    const std::ptrdiff_t total = cells + rows + static_cast<std::ptrdiff_t>(extra_b2.size());
    parallel_for(total, threads, [&](std::ptrdiff_t k) {
      if (interrupt_requested()) return;  // nothing may throw inside the parallel loop; see below
      if (k < cells) {
        const std::size_t ib = static_cast<std::size_t>(k) / nw, iw = static_cast<std::size_t>(k) % nw;
        const double sw2 = d.sigma_w2[iw], sb2 = d.sigma_b2[ib];
        const FixedPoint f = fixed_point(phi, sw2, sb2, c.bias_init, sw2 * m2 + sb2, c.critical_tol);
        d.cells[static_cast<std::size_t>(k)] = {sw2, sb2, f.q_star, f.chi_1, f.xi_c, f.phase};
      } else if (k < cells + rows) {
        const std::size_t ib = static_cast<std::size_t>(k - cells);
        d.critical[ib] = critical_sigma_w2(phi, d.sigma_b2[ib], c.bias_init, m2);
      } else {
        const std::size_t i = static_cast<std::size_t>(k - cells - rows);
        extra_w2[i] = critical_sigma_w2(phi, extra_b2[i], c.bias_init, m2);
      }
    });
    throw_if_interrupted();
    for (std::size_t i = 0; i < nb; ++i) d.line.emplace_back(d.sigma_b2[i], d.critical[i]);
    for (std::size_t i = 0; i < extra_b2.size(); ++i) d.line.emplace_back(extra_b2[i], extra_w2[i]);
    std::sort(d.line.begin(), d.line.end());
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace gf
