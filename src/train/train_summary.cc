#include "train/train_summary.h"
#include "train/dataset_builtin.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace gf {

Spread spread_of(std::span<const double> values) {
  Spread s;
  s.n = static_cast<Index>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  if (s.n >= 2) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

double chance_coherence(Index fan_in) {
  // E|S_n| = n C(n-1, floor((n-1)/2)) / 2^(n-1), in logs to stay finite for wide layers.
  const auto n = static_cast<double>(fan_in);
  const double k = std::floor((n - 1) / 2);
  return std::exp(std::lgamma(n) - std::lgamma(k + 1) - std::lgamma(n - k) - (n - 1) * std::log(2.0));
}

namespace {

double as_percent(double frac) { return 100.0 * frac; }

// The largest rise of `field` of hidden layer l from an earlier log step to a later one.
struct Rise {
  double amount = 0, from = kNaN, to = kNaN;
  Index from_step = 0, to_step = 0;
};

Rise largest_rise(const std::vector<LogRecord>& log, std::size_t layer) {
  Rise best;
  double low = kNaN;
  Index low_step = 0;
  for (const LogRecord& r : log) {
    const double v = r.layers[layer].dead_units_frac;
    if (!std::isfinite(v)) continue;
    if (!std::isfinite(low) || v <= low) {  // the latest step at the lowest value so far
      low = v;
      low_step = r.step;
    }
    if (v - low > best.amount) best = {v - low, low, v, low_step, r.step};
  }
  return best;
}

}  // namespace

double hidden_dead_frac(const LogRecord& r, std::span<const Index> hidden_widths) {
  double dead = 0, units = 0;
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    dead += r.layers[l].dead_units_frac * static_cast<double>(hidden_widths[l]);
    units += static_cast<double>(hidden_widths[l]);
  }
  return dead / units;
}

std::vector<Index> hidden_widths(const TrainConfig& c, Index features) {
  AnalysisConfig net = c.net;
  net.input_dim = features;
  std::vector<Index> widths = net.widths();  // n_0 .. n_L
  widths.erase(widths.begin());
  return widths;
}

void summarize_run(TrainRun& run, const TrainConfig& c, Index features, bool with_seed) {
  RunSummary& s = run.summary;
  s = RunSummary{};
  const std::string who = run.label(with_seed);
  auto say = [&](std::string text) { s.sentences.push_back(fmt::format("{}: {}", who, text)); };
  if (run.log.empty()) return;
  const std::size_t L = run.log.front().layers.size();

  // The final state: the last record with a finite loss.
  for (auto it = run.log.rbegin(); it != run.log.rend(); ++it)
    if (std::isfinite(it->loss)) {
      s.final_loss = it->loss;
      s.final_train_error = it->train_error;
      s.final_test_error = it->test_error;
      break;
    }

  if (run.end == RunEnd::diverged) say(divergence_text(run, c));
  if (!run.reached() && run.end != RunEnd::diverged)
    say(fmt::format("did not reach {:g}% training error in {} steps (last {:.1f}%)", as_percent(c.target_error),
                    run.steps_done, as_percent(s.final_train_error)));

  // Units that died.
  for (std::size_t l = 0; l < L; ++l) {
    const Rise r = largest_rise(run.log, l);
    if (r.amount > (s.dying_layer == 0 ? 0.0 : s.dying_to - s.dying_from)) {
      s.dying_layer = static_cast<Index>(l + 1);
      s.dying_from_step = r.from_step;
      s.dying_to_step = r.to_step;
      s.dying_from = r.from;
      s.dying_to = r.to;
    }
  }
  const std::vector<Index> widths = hidden_widths(c, features);
  for (auto it = run.log.rbegin(); it != run.log.rend(); ++it) {
    const double dead = hidden_dead_frac(*it, widths);
    if (std::isfinite(dead)) {
      s.dead_units_frac_final = dead;
      break;
    }
  }
  if (s.dying_layer != 0 && s.dying_to - s.dying_from > c.net.thresholds.dead_above)
    say(fmt::format("{:.0f}% of layer-{} units died between step {} and {} ({:.0f}% -> {:.0f}% dead); {:.0f}% of "
                    "all hidden units are dead at the end",
                    as_percent(s.dying_to - s.dying_from), s.dying_layer, s.dying_from_step, s.dying_to_step,
                    as_percent(s.dying_from), as_percent(s.dying_to), as_percent(s.dead_units_frac_final)));

  // The top hidden layer's saturation (Glorot & Bengio 2010: sigmoid's is pushed to 0 early).
  for (const LogRecord& r : run.log) {
    const LayerRecord& top = r.layers[L - 1];
    const double v = top.saturated_frac - top.inactive_frac;
    if (!std::isfinite(v)) continue;
    if (!std::isfinite(s.top_saturated_initial)) s.top_saturated_initial = v;
    if (!std::isfinite(s.top_saturated_peak) || v > s.top_saturated_peak) {
      s.top_saturated_peak = v;
      s.top_saturated_peak_step = r.step;
      s.top_act_mean_at_peak = top.act_mean;
    }
    s.top_saturated_final = v;
  }
  // Only saturation that training brought about: the state at initialisation is `analyze`'s.
  if (s.top_saturated_peak > c.net.thresholds.saturated_above &&
      s.top_saturated_peak - s.top_saturated_initial > c.net.thresholds.saturated_above / 2)
    say(fmt::format("top hidden layer {:.0f}% saturated at step {} ({}; {:.0f}% at the "
                    "start, {:.0f}% at the end; mean activation {:.3f} at the peak)",
                    as_percent(s.top_saturated_peak), s.top_saturated_peak_step,
                    saturation_text(c.net, *find_activation(run.activation)),
                    as_percent(s.top_saturated_initial), as_percent(s.top_saturated_final), s.top_act_mean_at_peak));

  // Sign coherence of the weight updates, mean over the log steps that took a step.
  double first = 0, hidden = 0;
  Index n_first = 0, n_hidden = 0;
  for (const LogRecord& r : run.log)
    for (std::size_t l = 0; l < L; ++l) {
      const double v = r.layers[l].dw_sign_coherence;
      if (!std::isfinite(v)) continue;
      if (l == 0) first += v, ++n_first;
      else hidden += v, ++n_hidden;
    }
  if (n_first > 0) s.dw_sign_coherence_first = first / static_cast<double>(n_first);
  if (n_hidden > 0) s.dw_sign_coherence_hidden = hidden / static_cast<double>(n_hidden);
  const double chance_first = chance_coherence(widths[0]);
  double chance_hidden = 0;  // mean over layers 2..L
  for (std::size_t l = 2; l <= L; ++l) chance_hidden += chance_coherence(widths[l - 1]) / static_cast<double>(L - 1);
  if (L == 1) chance_hidden = 1;
  auto coherent = [](double v, double chance) { return chance < 1 && (v - chance) / (1 - chance) >= kCoherentAbove; };
  if (coherent(s.dw_sign_coherence_first, chance_first))
    say(fmt::format("layer 1's weight updates mostly share one sign per unit (sign coherence {:.2f}; {:.2f} for "
                    "random signs): the input features are not zero-centred",
                    s.dw_sign_coherence_first, chance_first));
  if (coherent(s.dw_sign_coherence_hidden, chance_hidden))
    say(fmt::format("the weight updates of {} mostly share one sign per unit (sign coherence {:.2f}; {:.2f} for "
                    "random signs): when a layer's inputs all have one sign, each unit's incoming weights can only "
                    "all grow or all shrink together, and the path to the target zig-zags",
                    L == 2 ? std::string("layer 2") : fmt::format("layers 2..{}", L), s.dw_sign_coherence_hidden,
                    chance_hidden));
}

void set_speedups(std::vector<TrainRun>& runs, const std::string& reference) {
  std::map<std::pair<std::uint64_t, double>, Index> ref;  // (seed, lr) -> the reference's steps
  for (const TrainRun& r : runs)
    if (r.activation == reference && r.reached()) ref[{r.seed, r.lr}] = r.steps_to_target;
  for (TrainRun& r : runs) {
    const auto it = ref.find({r.seed, r.lr});
    r.summary.speedup = r.reached() && r.steps_to_target > 0 && it != ref.end()
                            ? static_cast<double>(it->second) / static_cast<double>(r.steps_to_target)
                            : kNaN;
  }
}

namespace {

bool same_lr(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

std::vector<ActivationAggregate> aggregate_runs(const std::vector<TrainRun>& runs,
                                                const std::vector<std::string>& activations,
                                                const std::vector<double>& lrs) {
  std::vector<ActivationAggregate> out;
  for (const double lr : lrs)
    for (const std::string& act : activations) {
      ActivationAggregate a;
      a.activation = act;
      a.lr = lr;
      std::vector<double> steps, speedups;
      for (const TrainRun& r : runs) {
        if (r.activation != act || !same_lr(r.lr, lr)) continue;
        ++a.runs;
        a.diverged += r.end == RunEnd::diverged;
        if (r.reached()) {
          ++a.reached;
          steps.push_back(static_cast<double>(r.steps_to_target));
        }
        if (std::isfinite(r.summary.speedup)) speedups.push_back(r.summary.speedup);
      }
      a.steps_to_target = spread_of(steps);
      a.speedup = spread_of(speedups);
      out.push_back(std::move(a));
    }
  return out;
}

std::vector<BestRate> best_rates(const std::vector<ActivationAggregate>& aggregate, const std::vector<TrainRun>& runs,
                                 const std::string& reference) {
  std::vector<BestRate> out;
  for (const ActivationAggregate& a : aggregate) {
    auto it = std::find_if(out.begin(), out.end(), [&](const BestRate& b) { return b.activation == a.activation; });
    const auto better = [&](const BestRate& b) {
      if (a.reached != b.reached) return a.reached > b.reached;
      return a.reached > 0 && a.steps_to_target.mean < b.steps_to_target.mean;
    };
    if (it == out.end()) out.push_back({a.activation, a.lr, a.runs, a.reached, a.steps_to_target, {}});
    else if (better(*it)) *it = {a.activation, a.lr, a.runs, a.reached, a.steps_to_target, {}};
  }
  const auto ref = std::find_if(out.begin(), out.end(), [&](const BestRate& b) { return b.activation == reference; });
  if (ref == out.end()) return out;
  std::map<std::uint64_t, Index> ref_steps;  // seed -> the reference's steps at its best rate
  for (const TrainRun& r : runs)
    if (r.activation == reference && same_lr(r.lr, ref->lr) && r.reached()) ref_steps[r.seed] = r.steps_to_target;
  for (BestRate& b : out) {
    std::vector<double> speedups;
    for (const TrainRun& r : runs)
      if (r.activation == b.activation && same_lr(r.lr, b.lr) && r.reached() && r.steps_to_target > 0)
        if (const auto it = ref_steps.find(r.seed); it != ref_steps.end())
          speedups.push_back(static_cast<double>(it->second) / static_cast<double>(r.steps_to_target));
    b.speedup = spread_of(speedups);
  }
  return out;
}

std::string divergence_text(const TrainRun& run, const TrainConfig& c) {
  const Divergence& d = run.divergence;
  if (d.before_update) {  // the data (or the initialisation), not the learning rate
    const bool noisy = find_builtin_data(c.data.data) && c.data.noise;
    return fmt::format("diverged at step {}, before any update, so not for the learning rate: {} became "
                       "non-finite with features up to {:.3g} in size; rescale the inputs (--standardize or "
                       "--input uniform){}{}",
                       d.step, d.where, d.largest_input,
                       noisy ? fmt::format(", lower --noise (now {:g})", *c.data.noise) : std::string(),
                       c.net.dtype == Dtype::f32 ? ", or train with --dtype f64" : "");
  }
  std::string hint = fmt::format("lower --lr (now {:g})", std::isfinite(run.lr) ? run.lr : c.optimizer.lr);
  if (c.optimizer.kind == OptimizerKind::momentum && c.optimizer.momentum >= 0.95)
    hint += fmt::format(" or --momentum (now {:g})", c.optimizer.momentum);
  if (c.optimizer.weight_decay * c.optimizer.lr >= 0.1)
    hint += fmt::format(" or --weight-decay (now {:g})", c.optimizer.weight_decay);
  if (d.largest_input > 1e3)  // unscaled features make the first updates huge whatever the rate
    hint += fmt::format("; the features reach {:.3g} in size: rescale them (--standardize){}", d.largest_input,
                        find_builtin_data(c.data.data) && c.data.noise ? " or lower --noise" : "");
  return fmt::format("diverged at step {}: {} became non-finite; {}", d.step, d.where, hint);
}

std::string divergence_message(const TrainRun& run, const TrainConfig& c, bool with_seed) {
  return run.label(with_seed) + ": " + divergence_text(run, c);
}

}  // namespace gf
