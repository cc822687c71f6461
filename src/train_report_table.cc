#include "train_report_table.h"

#include <cmath>
#include <fmt/format.h>

#include "loss.h"

namespace gf {
namespace {

std::string num(double v, std::string_view spec) {
  if (!std::isfinite(v)) return "-";
  return fmt::format(fmt::runtime(std::string("{:") + std::string(spec) + "}"), v);
}
std::string pct_cell(double frac) { return num(100.0 * frac, ".1f"); }

std::string header(const TrainResult& r) {
  const TrainConfig& c = r.config;
  const DatasetInfo& d = r.data;
  const std::vector<Index> w = c.net.widths();
  const auto [lo, hi] = std::minmax_element(w.begin() + 1, w.end());
  const std::string widths = *lo == *hi ? fmt::format("width {}", *lo) : fmt::format("widths {}..{}", *lo, *hi);
  const OptimizerConfig& o = c.optimizer;
  std::string opt = std::string(optimizer_name(o.kind));
  if (o.kind == OptimizerKind::momentum) opt += fmt::format(" {:g}", o.momentum);
  if (o.weight_decay > 0) opt += fmt::format(", weight decay {:g}", o.weight_decay);
  return fmt::format(
      "gradflow train: {} ({} classes, {} features; {} train, {} test), depth {}, {}, loss {}, {}\n"
      "{}, lr {:g}, batch {}, {} steps, log every {}, target train error {:g}%, seed{} {}{}\n",
      d.name, d.classes, d.features, d.n_train, d.n_test, c.net.depth, widths, loss_name(c.net.loss),
      dtype_name(c.net.dtype), opt, o.lr, c.net.batch, c.steps, c.resolved_log_every(), 100 * c.target_error,
      c.seeds.size() > 1 ? "s" : "", seeds_text(c.seeds), c.stop_at_target ? ", stop at target" : "");
}

std::string target_cell(const TrainRun& r) {
  if (r.reached()) return std::to_string(r.steps_to_target);
  if (r.end == RunEnd::diverged) return "diverged";
  return "not reached";
}

std::string runs_table(const TrainResult& result, const Style& s) {
  const bool seeds = result.several_seeds();
  std::size_t name_w = 3, init_w = 4;
  for (const TrainRun& r : result.runs) {
    name_w = std::max(name_w, r.label(seeds).size());
    init_w = std::max(init_w, r.init.size());
  }
  std::string out = s.paint(fmt::format("{:<{}}  {:<{}}  {:>9} {:>11} {:>7} {:>8} {:>7} {:>7} {:>8} {:>6} {:>8} {:>6}",
                                        "run", name_w, "init", init_w, "steps", "to target", "sec", "loss", "train%",
                                        "test%", "speedup", "dead%", "topsat%", "coher"),
                            Tone::bold) +
                    "\n";
  for (const TrainRun& r : result.runs) {
    const RunSummary& m = r.summary;
    const std::string target = target_cell(r);
    const Tone tone = r.reached() ? Tone::good : r.end == RunEnd::diverged ? Tone::bad : Tone::warn;
    out += fmt::format("{:<{}}  {:<{}}  {:>9} ", r.label(seeds), name_w, r.init, init_w, r.steps_done);
    out += s.paint(fmt::format("{:>11}", target), tone);
    out += fmt::format(" {:>7} {:>8} {:>7} {:>7} {:>8} {:>6} {:>8} {:>6}\n",
                       num(r.reached() ? r.seconds_to_target : kNaN, ".1f"), num(m.final_loss, ".4f"),
                       pct_cell(m.final_train_error), pct_cell(m.final_test_error),
                       std::isfinite(m.speedup) ? num(m.speedup, ".2f") + "x" : "-", pct_cell(m.dead_units_frac_final),
                       pct_cell(m.top_saturated_peak), num(m.dw_sign_coherence_hidden, ".2f"));
  }
  return out;
}

std::string spread_cell(const Spread& sp, std::string_view spec, std::string_view unit, const Style& s) {
  if (sp.n == 0) return "-";
  if (sp.n == 1) return num(sp.mean, spec) + std::string(unit);
  return fmt::format("{}{} {} {} ({}..{})", num(sp.mean, spec), unit, s.utf8 ? "±" : "+-", num(sp.sd, spec),
                     num(sp.min, spec), num(sp.max, spec));
}

std::string seeds_table(const TrainResult& result, const Style& s) {
  std::string out(1, '\n');  // (not "\n" + string: GCC 12 warns falsely, -Wrestrict)
  out += s.paint(fmt::format("over {} seeds ({}):", result.config.seeds.size(), seeds_text(result.config.seeds)),
                 Tone::bold);
  const std::string pm = s.utf8 ? "±" : "+-";
  std::vector<std::string> steps, speedups;
  std::size_t width = 0;
  for (const ActivationAggregate& a : result.aggregate) {
    steps.push_back(spread_cell(a.steps_to_target, ".0f", "", s));
    speedups.push_back(spread_cell(a.speedup, ".2f", "x", s));
    width = std::max(width, steps.back().size());
  }
  const std::string steps_title = fmt::format("steps to target: mean {} sd (min..max)", pm);
  width = std::max(width, steps_title.size());
  out += fmt::format("\n{:<11} {:>8}  {:<{}}  speed-up: mean {} sd (min..max)\n", "activation", "reached", steps_title,
                     width, pm);
  for (std::size_t i = 0; i < result.aggregate.size(); ++i) {
    const ActivationAggregate& a = result.aggregate[i];
    out += fmt::format("{:<11} {:>8}  {:<{}}  {}\n", a.activation, fmt::format("{}/{}", a.reached, a.runs), steps[i],
                       width, speedups[i]);
  }
  return out;
}

}  // namespace

std::string train_table(const TrainResult& result, const Style& s) {
  std::string out = header(result);
  if (result.interrupted) out += s.paint("interrupted: every run stopped early; this covers the steps taken\n", Tone::warn);
  out += '\n';
  out += runs_table(result, s);
  if (result.several_seeds()) out += seeds_table(result, s);
  out += fmt::format(
      "\nsteps: steps taken; to target: first log step with train error <= {:g}% (evaluation batch of {}\n"
      "samples); sec: wall-clock seconds to the target\n"
      "speedup: steps of the slowest run (same seed) that reached the target / this run's\n"
      "dead%: hidden units dead at the end; topsat%: peak share of the top hidden layer's unit-samples\n"
      "on a flat tail (a dead zone's zeros excluded); coher: mean sign coherence of dW rows, layers 2..L\n",
      100 * result.config.target_error, std::min(result.config.eval_batch, result.data.n_train));
  std::string sentences;
  for (const TrainRun& r : result.runs)
    for (const std::string& line : r.summary.sentences) {
      const std::size_t head = line.find(": ");
      sentences += s.paint(line.substr(0, head), Tone::bold) + line.substr(head) + "\n";
    }
  if (!sentences.empty()) {
    out += '\n';
    out += sentences;
  }
  return out;
}

}  // namespace gf
