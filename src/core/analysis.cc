#include "core/analysis.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <thread>

#include "base/errors.h"
#include "base/real_text.h"
#include "core/arch_sentences.h"
#include "base/suggest.h"
#include "core/enum_names.h"
#include "core/init_flags.h"
#include "core/layer.h"
#include "core/params.h"

namespace gf {

std::vector<InputFile> input_files(const AnalysisConfig& c) {
  return {{"--model", c.model_path}, {"--data", c.data_path}, {"--arch", c.arch}};
}

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::vector<Index> AnalysisConfig::widths() const {
  std::vector<Index> w(static_cast<std::size_t>(depth + 1));
  for (Index l = 1; l <= depth; ++l)
    w[static_cast<std::size_t>(l)] = width.size() == 1 ? width[0] : width[static_cast<std::size_t>(l - 1)];
  w[0] = input_dim > 0 ? input_dim : w[1];
  return w;
}

double residual_alpha(const std::string& scale, Index depth, Index residual) {
  if (scale == "invsqrt-blocks") return 1.0 / std::sqrt(static_cast<double>(depth / std::max<Index>(residual, 1)));
  double alpha = 0;
  if (!parse_real_text(scale, alpha))
    throw UsageError(fmt::format("--residual-scale: '{}' is not allowed: give a number (0 for ReZero, 0.5, 1/8) or "
                                 "invsqrt-blocks (1/sqrt of the number of blocks)",
                                 scale));
  return alpha;
}

double AnalysisConfig::residual_alpha() const { return gf::residual_alpha(residual_scale, depth, residual); }

Index AnalysisConfig::layer_count() const {
  const std::vector<Index> w = widths();
  return depth + (residual != 0 && w[0] != w[1] ? 1 : 0);
}

int AnalysisConfig::thread_count() const {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

namespace {

InitFlags init_flags(const AnalysisConfig& c) { return {c.init, c.gain, c.sigma_w2, c.weight_std}; }

}  // namespace

bool choose_regenerate(const AnalysisConfig& c, const NetworkSpec& spec) {
  // --jacobian's matrices come on top of either (jacobian.h).
  const std::uint64_t jac =
      c.jacobian ? jacobian_bytes(spec, c.jacobian_samples, !c.jacobian_depths.empty(), c.jacobian_probes) : 0;
  const std::uint64_t store = estimate_bytes(spec, c.dtype, false) + jac;
  const std::uint64_t regen = estimate_bytes(spec, c.dtype, true) + jac;
  const std::string limit = fmt::format("--max-memory is {}", format_bytes(c.max_memory));
  // A model's own weights cannot be drawn again: they are stored.
  switch (c.model && c.model_weights ? WeightsMode::store : c.weights) {
    case WeightsMode::store:
      if (store > c.max_memory)
        throw UsageError(fmt::format("--weights store needs about {} and {}; raise --max-memory or "
                                     "use --weights regenerate ({})",
                                     format_bytes(store), limit, format_bytes(regen)));
      return false;
    case WeightsMode::regenerate:
      if (regen > c.max_memory)
        throw UsageError(fmt::format("this network needs about {} even with --weights regenerate, "
                                     "and {}; lower --batch, --width or --depth",
                                     format_bytes(regen), limit));
      return true;
    case WeightsMode::automatic:
      if (store <= c.max_memory) return false;
      if (regen <= c.max_memory) return true;
      throw UsageError(fmt::format("this network needs about {} ({} with its weights regenerated "
                                   "instead of stored), and {}; lower --batch, --width or --depth, "
                                   "or raise --max-memory",
                                   format_bytes(store), format_bytes(regen), limit));
  }
  return false;
}

void check_residual_flags(Index residual, Index depth, const std::string& init, bool given_blocks) {
  if (residual == 0) {
    if (init == kFixup && !given_blocks)
      throw UsageError("--init fixup scales the branches of residual blocks, and this is a plain stack: add "
                       "--residual K (e.g. --residual 2), or choose another --init");
    return;
  }
  if (residual < 2)
    throw UsageError(fmt::format("--residual {}: a block has K >= 2 dense layers (activations between them, the "
                                 "last one linear); give 0 for a plain stack, or 2 or more",
                                 residual));
  if (depth % residual != 0)
    throw UsageError(fmt::format("--residual {0}: --depth {1} is not a multiple of {0}; a residual net is blocks x "
                                 "{0} dense layers (e.g. --depth {2})",
                                 residual, depth, (depth / residual + 1) * residual));
}

namespace {

void validate_residual(const AnalysisConfig& c) {
  c.residual_alpha();
  auto has_blocks = [](const std::vector<LayerOp>& ops) {
    return std::any_of(ops.begin(), ops.end(), [](const LayerOp& op) { return op.kind == OpKind::skip_add; });
  };
  // A model's residual blocks are its own (--residual is not given with it): fixup scales their
  // branches as it does the flags' and an --arch file's; a model without any has none to scale.
  if (c.model && c.init == kFixup && !has_blocks(c.model->ops))
    throw UsageError(fmt::format("--init fixup scales the branches of residual blocks, and the model {} has none (a "
                                 "plain stack): choose another --init",
                                 c.model_path));
  check_residual_flags(c.residual, c.depth, c.init, has_blocks(c.arch_ops) || (c.model && has_blocks(c.model->ops)));
  if (c.residual == 0) return;
  for (Index w : c.width)
    if (w != c.width.front())
      throw UsageError(fmt::format("--residual {}: every layer of a residual stream has one width, and --width "
                                   "{} differs at {}; give one width",
                                   c.residual, fmt::join(c.width, ","), w));
}

// --jacobian-depths: each l a layer whose partial d a_L / d a_l is defined (jacobian.h's
// partial_jacobian_layer: 0 <= l < L; a residual net's stream), each once.
void validate_jacobian_depths(const AnalysisConfig& c, const NetworkSpec& spec) {
  if (!c.jacobian) return;
  const Index L = spec.depth();
  for (std::size_t i = 0; i < c.jacobian_depths.size(); ++i) {
    const Index l = c.jacobian_depths[i];
    if (std::find(c.jacobian_depths.begin(), c.jacobian_depths.begin() + static_cast<std::ptrdiff_t>(i), l) !=
        c.jacobian_depths.begin() + static_cast<std::ptrdiff_t>(i))
      throw UsageError(fmt::format("--jacobian-depths: {} is given twice; give each layer once", l));
    if (l >= L)
      throw UsageError(fmt::format("--jacobian-depths: {} is not below the network's {} layers; give l from 0 (the "
                                   "input: J itself) to {}",
                                   l, L, L - 1));
    if (!partial_jacobian_layer(spec, l))
      throw UsageError(fmt::format("--jacobian-depths: layer {} is inside a residual block (--residual {}), where "
                                   "a_L also depends on the stream that skips it; give a layer on the stream: 0 or "
                                   "{} plus a multiple of {}",
                                   l, c.residual, c.layer_count() - c.depth, c.residual));
  }
}

// --jacobian: a BatchNorm on the batch's statistics couples the samples, so one input's Jacobian
// is not defined. Each way of asking for one is told its own way out: --norm, a --model's
// --bn-mode, an --arch file's layer.
void validate_norm(const AnalysisConfig& c) {
  if (!c.jacobian) return;
  if (c.norm == NormKind::batch)
    throw UsageError("--jacobian with --norm batch: BatchNorm couples the samples of the batch, so one input's "
                     "Jacobian d a_L / d x is not defined; drop --jacobian, or give --norm layer, rms or none");
  if (c.model)
    for (std::size_t k = 0; k < c.model->ops.size(); ++k)
      if (c.model->ops[k].norm == NormKind::batch)
        throw UsageError(fmt::format("--jacobian with --bn-mode batch: the model's BatchNorm at layer '{}' then "
                                     "normalises over the batch, which couples its samples, so one input's Jacobian "
                                     "d a_L / d x is not defined; give --bn-mode running (its running statistics, "
                                     "as in inference), or drop --jacobian",
                                     c.model->names[k]));
  for (std::size_t i = 0; i < c.arch_ops.size(); ++i)
    if (c.arch_ops[i].norm == NormKind::batch)
      throw UsageError(fmt::format("--jacobian with --arch {}: {} has norm batch, which couples the samples of the "
                                   "batch, so one input's Jacobian d a_L / d x is not defined; drop --jacobian, or "
                                   "give that layer norm layer, rms or none",
                                   c.arch, c.arch_entries[i]));
}

// --dropout with --jacobian needs no check: the walk reads each layer's stored slopes D[l], which
// dropout_forward has already multiplied by the sample's own mask m / (1 - p), so J is that of
// the masked network the pass measured (core/dropout.h).
void validate_dropout(const AnalysisConfig& c) {
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw UsageError(fmt::format("--dropout {}: the probability of dropping a unit must be in [0, 1) (0: no dropout)",
                                 c.dropout));
}

}  // namespace

void validate(const AnalysisConfig& c) {
  if (c.activations.empty()) throw UsageError("--activation: give at least one activation");
  if (c.width.size() != 1 && static_cast<Index>(c.width.size()) != c.depth)
    throw UsageError(fmt::format("--width has {} values but --depth is {}: give one width for "
                                 "every layer, or a single width",
                                 c.width.size(), c.depth));
  check_init_flags(init_flags(c));
  // BatchNorm with the batch's statistics over one sample: every output is its shift, and no
  // gradient passes (PyTorch refuses to train so); a report of it would only show that.
  auto batch_norm = [](const std::vector<LayerOp>& ops) {
    return std::any_of(ops.begin(), ops.end(), [](const LayerOp& op) { return op.norm == NormKind::batch; });
  };
  if (c.batch < 2 && (c.norm == NormKind::batch || batch_norm(c.arch_ops) || (c.model && batch_norm(c.model->ops))))
    throw UsageError(fmt::format("-b {}: BatchNorm with the batch's statistics normalises each unit over the batch, "
                                 "and over one sample every output is its shift, so no gradient passes; give -b 2 "
                                 "or more{}",
                                 c.batch, c.model ? ", or --bn-mode running (the model's running statistics)" : ""));
  if (c.saturated_when) {
    bool any = false;
    for (const std::string& name : c.activations)
      if (const Activation* act = find_activation(name)) any = any || act->range.bounded();
    if (!any)
      throw UsageError(fmt::format("--saturated-when tests the output of a bounded activation (sigmoid, tanh, "
                                   "softsign, hard_tanh), and {} {} unbounded: use --sat-eps (the slope test)",
                                   join(c.activations), c.activations.size() == 1 ? "is" : "are all"));
  }
  validate_residual(c);
  validate_norm(c);
  validate_dropout(c);
  if (c.sigma_b2 && c.bias_init != 0.0)
    throw UsageError("--bias-init and --sigma-b2 both set the biases: give one");
  if (c.jacobian && (c.jacobian_probes == 1 || c.jacobian_probes == 2))
    throw UsageError(fmt::format("--jacobian-probes {}: the spread of s^2 comes from pairs of directions and its "
                                 "standard error from leaving one out; give 0 (the exact J) or at least 3",
                                 c.jacobian_probes));
  if (c.jacobian && c.jacobian_samples > c.batch)
    throw UsageError(fmt::format("--jacobian-samples {} is more than --batch {}: the Jacobian is taken at the "
                                 "batch's first samples; give at most {}",
                                 c.jacobian_samples, c.batch, c.batch));
  for (const std::string& name : c.activations) {
    const Activation* act = find_activation(name);
    if (!act) throw UsageError(fmt::format("--activation: unknown activation '{}'", name));
    const NetworkSpec spec = network_spec(c, *act);
    validate_jacobian_depths(c, spec);
    choose_regenerate(c, spec);
  }
}

std::string saturation_text(const AnalysisConfig& c, const Activation& act) {
  return saturation_text(saturation_test(act, c.leaky_slope, c.sat_eps, c.saturated_when), act, c.sat_eps);
}

NetworkSpec network_spec(const AnalysisConfig& c, const Activation& act) {
  NetworkSpec s;
  const std::vector<Index> w = c.widths();
  s.input_width = w.front();
  if (!c.arch_ops.empty()) {
    s.ops = c.arch_ops;
    s.ops.push_back({OpKind::head, c.classes, nullptr, 0});
    if (const std::optional<OpListError> e = check_ops(s.input_width, s.ops))
      throw UsageError(fmt::format("--arch {}: {}: {}", c.arch,
                                   e->op < c.arch_entries.size() ? c.arch_entries[e->op] : "layers", e->message));
  } else {
    s.ops = c.residual == 0 ? plain_stack({w.begin() + 1, w.end()}, act, c.leaky_slope, c.classes, c.norm, c.norm_eps)
                          : residual_stack(w[0], w[1], c.depth / c.residual, c.residual, act, c.leaky_slope,
                                           c.residual_alpha(), c.classes, c.norm, c.norm_position, c.norm_eps);
    set_dropout(s.ops, c.dropout);
  }
  if (c.model) {  // --model: the file's network (core/given_network.h)
    s.input_width = c.model->input_width;
    s.ops = c.model->ops;
    set_dropout(s.ops, c.dropout);
  }
  s.batch = c.batch;
  s.input = c.input;
  s.loss = c.loss;
  s.weight_init = resolve_init(init_flags(c), act, s);
  s.bias_init = {c.bias_init, c.sigma_b2};
  s.seed = c.seed;
  s.sat_eps = c.sat_eps;
  s.saturated_when = c.saturated_when;
  s.threads = c.thread_count();
  return s;
}

namespace {

// Settings that change nothing in this run, said rather than refused: a sweep may cross them
// with the axis that gives them a meaning (--residual 0,2 with --residual-scale 0.5).
std::vector<std::string> inert_setting_notes(const AnalysisConfig& c) {
  std::vector<std::string> notes;
  const AnalysisConfig defaults;
  if (c.residual == 0 && c.residual_scale != defaults.residual_scale)
    notes.push_back(fmt::format("--residual-scale {} has no effect on a plain stack: it scales residual branches "
                                "(--residual K)",
                                c.residual_scale));
  if ((c.residual == 0 || c.norm == NormKind::none) && c.norm_position != defaults.norm_position)
    notes.push_back(fmt::format("--norm-position {} has no effect {}: it places the norm of residual blocks "
                                "(--residual K with --norm)",
                                norm_position_name(c.norm_position),
                                c.residual == 0 ? "on a plain stack" : "without --norm"));
  if (c.norm == NormKind::none && c.norm_eps != defaults.norm_eps)
    notes.push_back(fmt::format("--norm-eps {:g} has no effect without --norm", c.norm_eps));
  if (!c.jacobian && c.jacobian_samples != defaults.jacobian_samples)
    notes.push_back(fmt::format("--jacobian-samples {} has no effect without --jacobian", c.jacobian_samples));
  if (!c.jacobian && c.jacobian_probes != 0)
    notes.push_back(fmt::format("--jacobian-probes {} has no effect without --jacobian", c.jacobian_probes));
  if (!c.jacobian && !c.jacobian_depths.empty())
    notes.push_back(fmt::format("--jacobian-depths {} has no effect without --jacobian", fmt::join(c.jacobian_depths, ",")));
  return notes;
}

template <class T>
RunResult run_typed(const AnalysisConfig& c, const Activation& act, NetworkSpec spec) {
  RunResult r;
  r.activation = std::string(act.name);
  r.init = c.model && c.model_weights ? "the model's weights" : spec.weight_init.label;
  r.regenerated_weights = spec.regenerate_weights;
  Network<T> net(std::move(spec));
  if (c.model && c.model_weights) {  // the file's weights: nothing to draw
    set_norms_and_scales(net.spec, net.params);
    load_given_weights(*c.model, net.params);
  } else {
    draw_params(net.spec, net.params);
  }
  draw_batch(net.spec, net.ws);  // also --loss random's direction, which given data leaves as drawn
  if (c.data) load_given_batch(*c.data, c.loss, net.ws);
  network_forward(net, r.pass);
  network_backward(net, r.pass);
  if (c.jacobian && r.pass.overflow_layer == 0 && c.jacobian_probes > 0) {
    // The mean and spread of s^2 from J V alone, for widths where n^3 is too much.
    auto estimate = [&](Index from) {
      return jacobian_probe_stats(
          jacobians(net.spec, net.params, net.ws, r.pass, c.jacobian_samples, from, c.jacobian_probes),
          std::min(net.spec.width(net.spec.depth()), net.spec.width(from)));
    };
    r.jacobian = estimate(0);
    for (Index l : c.jacobian_depths) r.jacobian_partials.push_back({l, l == 0 ? *r.jacobian : estimate(l)});
  } else if (c.jacobian && r.pass.overflow_layer == 0) {
    const JacobianSpectra sp = jacobian_spectra(net.spec, net.params, net.ws, r.pass, c.jacobian_samples);
    r.jacobian = jacobian_stats(sp);
    r.jacobian_log10_s2 = resolved_log10_s2(sp);
    for (Index l : c.jacobian_depths)
      r.jacobian_partials.push_back(
          {l, l == 0 ? *r.jacobian
                     : jacobian_stats(jacobian_spectra(net.spec, net.params, net.ws, r.pass, c.jacobian_samples, l))});
  }
  r.summary =
      summarize(r.pass, c.thresholds, r.activation, saturation_text(c, act), dtype_name(c.dtype), net.spec.ops);
  explain_architecture(r.summary, r.pass, net.spec.ops, r.activation);
  for (std::string& note : inert_setting_notes(c)) r.summary.notes.push_back(std::move(note));
  if (c.model) r.layer_names.assign(c.model->names.begin(), c.model->names.end() - 1);
  if (c.model)
    r.summary.notes.push_back(fmt::format("--model {} ({}): {}", c.model_path,
                                          c.model_weights ? "its weights" : "fresh weights, --weights-from init",
                                          given_layers_text(*c.model)));
  return r;
}

}  // namespace

RunResult run_one(const AnalysisConfig& c, const Activation& act) {
  NetworkSpec spec = network_spec(c, act);
  spec.regenerate_weights = choose_regenerate(c, spec);
  return c.dtype == Dtype::f32 ? run_typed<float>(c, act, std::move(spec))
                               : run_typed<double>(c, act, std::move(spec));
}

AnalysisResult run_analysis(const AnalysisConfig& c, const RunProgress& on_run) {
  validate(c);
  AnalysisResult result{c, {}};
  for (std::size_t i = 0; i < c.activations.size(); ++i) {
    if (on_run) on_run(i, c.activations.size(), c.activations[i]);
    result.runs.push_back(run_one(c, *find_activation(c.activations[i])));
  }
  return result;
}

}  // namespace gf
