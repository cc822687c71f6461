#include "report/train_report_table.h"

#include <cmath>
#include <fmt/format.h>

#include "base/utf8.h"
#include "core/loss.h"

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
  const std::vector<double> lrs = c.learning_rates();
  return fmt::format(
      "gradflow train: {} ({} classes, {} features; {} train, {} test), depth {}, {}, loss {}, {}\n"
      "{}, lr {}, batch {}, {} steps, log every {}, target train error {:g}%, seed{} {}{}\n",
      printable_line(d.name), d.classes, d.features, d.n_train, d.n_test, c.net.depth, widths, loss_name(c.net.loss),
      dtype_name(c.net.dtype), opt, fmt::format("{:g}", fmt::join(lrs, ",")), c.net.batch, c.steps,
      c.resolved_log_every(), 100 * c.target_error,
      c.seeds.size() > 1 ? "s" : "", seeds_text(c.seeds), c.stop_at_target ? ", stop at target" : "");
}

std::string target_cell(const TrainRun& r) {
  if (r.reached()) return std::to_string(r.steps_to_target);
  if (r.end == RunEnd::diverged) return "diverged";
  return "not reached";
}

std::string runs_table(const TrainResult& result, const Style& s) {
  const bool seeds = result.several_seeds();
  const std::string vs = "vs " + result.config.speedup_reference();
  std::size_t name_w = 3, init_w = 4;
  for (const TrainRun& r : result.runs) {
    name_w = std::max(name_w, r.label(seeds).size());
    init_w = std::max(init_w, r.init.size());
  }
  std::string out = s.paint(fmt::format("{:<{}}  {:<{}}  {:>9} {:>11} {:>7} {:>8} {:>7} {:>7} {:>8} {:>6} {:>8} {:>6}",
                                        "run", name_w, "init", init_w, "steps", "to target", "sec", "loss", "train%",
                                        "test%", vs, "dead%", "topsat%", "coher"),
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

// One row per activation (and learning rate, when several): runs that reached the target, and
// the spread over seeds of steps to target and speed-up.
struct SpreadRow {
  std::string activation;
  double lr;
  Index reached, runs;
  const Spread &steps, &speedup;
};

std::string spread_rows(const std::vector<SpreadRow>& rows, bool with_lr, const std::string& lr_title,
                        const std::string& vs, const Style& s) {
  const std::string pm = s.utf8 ? "±" : "+-";
  std::vector<std::string> steps, speedups;
  std::size_t width = 0;
  for (const SpreadRow& r : rows) {
    steps.push_back(spread_cell(r.steps, ".0f", "", s));
    speedups.push_back(spread_cell(r.speedup, ".2f", "x", s));
    width = std::max(width, steps.back().size());
  }
  const std::string steps_title = fmt::format("steps to target: mean {} sd (min..max)", pm);
  width = std::max(width, steps_title.size());
  const std::string lr_head = with_lr ? fmt::format(" {:>8}", lr_title) : "";
  std::string out = fmt::format("{:<11}{} {:>8}  {:<{}}  speed-up {}: mean {} sd (min..max)\n", "activation", lr_head,
                                "reached", steps_title, width, vs, pm);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SpreadRow& r = rows[i];
    out += fmt::format("{:<11}{} {:>8}  {:<{}}  {}\n", r.activation, with_lr ? fmt::format(" {:>8g}", r.lr) : "",
                       fmt::format("{}/{}", r.reached, r.runs), steps[i], width, speedups[i]);
  }
  return out;
}

std::string seeds_table(const TrainResult& result, const Style& s) {
  std::string out(1, '\n');  // (not "\n" + string: GCC 12 warns falsely, -Wrestrict)
  out += s.paint(fmt::format("over {} seeds ({}):", result.config.seeds.size(), seeds_text(result.config.seeds)),
                 Tone::bold);
  out += '\n';
  std::vector<SpreadRow> rows;
  for (const ActivationAggregate& a : result.aggregate)
    rows.push_back({a.activation, a.lr, a.reached, a.runs, a.steps_to_target, a.speedup});
  const std::string vs = "vs " + result.config.speedup_reference();
  out += spread_rows(rows, result.several_lrs(), "lr", vs, s);
  return out;
}

std::string best_table(const TrainResult& result, const Style& s) {
  std::string out(1, '\n');
  out += s.paint("each activation at its own best learning rate (the most seeds at the target, then the fewest steps):",
                 Tone::bold);
  out += '\n';
  std::vector<SpreadRow> rows;
  for (const BestRate& b : result.best) rows.push_back({b.activation, b.lr, b.reached, b.runs, b.steps_to_target, b.speedup});
  out += spread_rows(rows, true, "best lr", "vs " + result.config.speedup_reference() + " at its best", s);
  return out;
}

}  // namespace

std::string train_table(const TrainResult& result, const Style& s) {
  std::string out = header(result);
  if (result.interrupted) out += s.paint("interrupted: every run stopped early; this covers the steps taken\n", Tone::warn);
  out += '\n';
  out += runs_table(result, s);
  if (result.several_seeds() || result.several_lrs()) out += seeds_table(result, s);
  if (!result.best.empty()) out += best_table(result, s);
  const std::string ref = result.config.speedup_reference();
  out += fmt::format(
      "\nsteps: steps taken; to target: first step with train error <= {:g}% (evaluation batch of {}\n"
      "samples; every step counts, whatever --log-every: see --target-every); sec: seconds to it\n"
      "vs {}: speed-up, {}'s steps to target (same seed{}) / this run's (--speedup-vs)\n"
      "dead%: hidden units dead at the end; topsat%: peak share of the top hidden layer's unit-samples\n"
      "on a flat tail (a dead zone's zeros excluded); coher: mean sign coherence of dW rows, layers 2..L\n",
      100 * result.config.target_error, std::min(result.config.eval_batch, result.data.n_train), ref, ref,
      result.several_lrs() ? ", same learning rate" : "");
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
