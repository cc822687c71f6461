#include "report/train_report_json.h"

#include "base/json_io.h"
#include "core/loss.h"
#include "core/run_json.h"
#include "core/summary.h"
#include "report/report_json.h"
#include "train/dataset_builtin.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

namespace {

ojson spread_json(const Spread& s) {
  return {{"n", s.n}, {"mean", number_or_null(s.mean)}, {"sd", number_or_null(s.sd)},
          {"min", number_or_null(s.min)}, {"max", number_or_null(s.max)}};
}

}  // namespace

ojson train_config_json(const TrainConfig& c, const DatasetInfo& d) {
  const AnalysisConfig& n = c.net;
  const DataConfig& dc = c.data;
  const BuiltinData* builtin = find_builtin_data(dc.data);
  AnalysisConfig resolved = n;
  resolved.input_dim = d.features;
  const std::vector<Index> widths = resolved.widths();
  const OptimizerConfig& o = c.optimizer;
  const bool adam = o.kind == OptimizerKind::adam;
  ojson seed = c.seeds.size() == 1 ? ojson(c.seeds.front()) : ojson(seeds_text(c.seeds));
  ojson noise = nullptr;
  if (builtin && builtin->name != "teacher") noise = dc.noise.value_or(builtin->default_noise);
  ojson j = {{"activation", n.activations},
          {"depth", n.depth},
          {"width", std::vector<Index>(widths.begin() + 1, widths.end())},
          {"input-dim", builtin ? ojson(d.features) : ojson(nullptr)},
          {"batch", n.batch},
          {"classes", builtin ? ojson(d.classes) : ojson(nullptr)},
          {"seed", seed},
          {"input", input_name(n.input)},
          {"loss", loss_name(n.loss)},
          {"init", n.init},
          {"sigma-w2", optional_json(n.sigma_w2)},
          {"weight-std", optional_json(n.weight_std)},
          {"gain", optional_json(n.gain)},
          {"bias-init", n.bias_init},
          {"sigma-b2", optional_json(n.sigma_b2)},
          {"leaky-slope", n.leaky_slope},
          {"sat-eps", n.sat_eps},
          {"saturated-when", optional_json(n.saturated_when)},
          {"dtype", dtype_name(n.dtype)}};
  add_residual_keys(j, n, false);
  add_norm_keys(j, n, false);
  add_dropout_key(j, n, false);
  for (const ThresholdFlag& f : threshold_flags())
    if (f.in_train) j[std::string(f.name)] = n.thresholds.*f.field;
  const ojson data = {{"data", dc.data},
          {"n-train", builtin ? ojson(dc.n_train) : ojson(nullptr)},
          {"n-test", builtin ? ojson(dc.n_test) : ojson(nullptr)},
          {"noise", noise},
          {"teacher-depth", builtin && builtin->name == "teacher" ? ojson(dc.teacher_depth) : ojson(nullptr)},
          {"label-col", builtin ? ojson(nullptr) : ojson(dc.label_col.empty() ? "-1" : dc.label_col)},
          {"test-frac", builtin ? ojson(nullptr) : ojson(dc.test_frac)},
          {"standardize", dc.standardize},
          {"data-seed", dc.seed},
          {"steps", c.steps},
          {"optimizer", optimizer_name(o.kind)},
          {"lr", c.lrs.size() > 1 ? ojson(c.lrs) : ojson(o.lr)},
          {"momentum", o.kind == OptimizerKind::momentum ? ojson(o.momentum) : ojson(nullptr)},
          {"beta1", adam ? ojson(o.beta1) : ojson(nullptr)},
          {"beta2", adam ? ojson(o.beta2) : ojson(nullptr)},
          {"adam-eps", adam ? ojson(o.eps) : ojson(nullptr)},
          {"weight-decay", o.weight_decay},
          {"log-every", c.resolved_log_every()},
          {"target-every", c.target_every > 0 ? ojson(c.target_every) : ojson(nullptr)},
          {"target-error", c.target_error},
          {"eval-batch", std::min(c.eval_batch, d.n_train)},
          {"stop-at-target", c.stop_at_target},
          {"speedup-vs", c.speedup_reference()}};
  j.insert(data.begin(), data.end());
  return j;
}

ojson log_record_json(const LogRecord& r) {
  ojson layers = ojson::array();
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    ojson j = {{"layer", l + 1}};
    for (const LayerMetric& m : train_layer_metrics()) j[std::string(m.key)] = number_or_null(r.layers[l].*m.field);
    layers.push_back(std::move(j));
  }
  ojson j = {{"step", r.step},
             {"loss", number_or_null(r.loss)},
             {"batch_loss", number_or_null(r.batch_loss)},
             {"train_error", number_or_null(r.train_error)},
             {"test_error", number_or_null(r.test_error)},
             {"layers", std::move(layers)}};
  if (!r.blocks.empty()) {
    ojson blocks = ojson::array();
    for (std::size_t k = 0; k < r.blocks.size(); ++k) {
      ojson b = {{"block", r.blocks[k].block}};
      for (const BlockMetric& m : block_metrics()) b[std::string(m.key)] = number_or_null(r.blocks[k].*m.field);
      b["alpha"] = number_or_null(r.alpha[k]);
      blocks.push_back(std::move(b));
    }
    j["blocks"] = std::move(blocks);
  }
  return j;
}

std::string trace_line(const TrainRun& run, const LogRecord& r, bool with_lr) {
  ojson j = {{"activation", run.activation}, {"seed", run.seed}};
  if (with_lr) j["lr"] = run.lr;
  const ojson record = log_record_json(r);
  for (const auto& [k, v] : record.items()) j[k] = v;
  return dump_json(j) + "\n";
}

namespace {

ojson run_json(const TrainRun& r, const TrainConfig& c, bool timings) {
  const RunSummary& s = r.summary;
  ojson log = ojson::array();
  for (const LogRecord& rec : r.log) log.push_back(log_record_json(rec));
  ojson divergence = nullptr;
  if (r.end == RunEnd::diverged)
    divergence = {{"step", r.divergence.step},
                  {"layer", r.divergence.layer},
                  {"where", r.divergence.where},
                  {"message", divergence_text(r, c)}};
  ojson j = {{"activation", r.activation},
             {"seed", r.seed},
             {"lr", r.lr},
             {"init", r.init},
             {"end", run_end_name(r.end)},
             {"steps_done", r.steps_done},
             {"reached_target", r.reached()},
             {"steps_to_target", r.reached() ? ojson(r.steps_to_target) : ojson(nullptr)},
             {"speedup", number_or_null(s.speedup)},
             {"final_loss", number_or_null(s.final_loss)},
             {"final_train_error", number_or_null(s.final_train_error)},
             {"final_test_error", number_or_null(s.final_test_error)},
             {"divergence", divergence},
             {"dying", s.dying_layer == 0 ? ojson(nullptr)
                                          : ojson{{"layer", s.dying_layer},
                                                  {"from_step", s.dying_from_step},
                                                  {"to_step", s.dying_to_step},
                                                  {"dead_units_frac_from", s.dying_from},
                                                  {"dead_units_frac_to", s.dying_to}}},
             {"dead_units_frac_final", number_or_null(s.dead_units_frac_final)},
             {"top_saturated_frac_initial", number_or_null(s.top_saturated_initial)},
             {"top_saturated_frac_peak", number_or_null(s.top_saturated_peak)},
             {"top_saturated_frac_peak_step", s.top_saturated_peak_step},
             {"top_saturated_frac_final", number_or_null(s.top_saturated_final)},
             {"top_act_mean_at_peak", number_or_null(s.top_act_mean_at_peak)},
             {"dw_sign_coherence_layer1", number_or_null(s.dw_sign_coherence_first)},
             {"dw_sign_coherence_hidden", number_or_null(s.dw_sign_coherence_hidden)},
             {"sentences", s.sentences}};
  if (timings) {
    j["seconds"] = number_or_null(r.seconds);
    j["seconds_to_target"] = number_or_null(r.seconds_to_target);
  }
  j["log"] = std::move(log);
  return j;
}

}  // namespace

std::string train_json(const TrainResult& result, bool timings) {
  ojson runs = ojson::array();
  for (const TrainRun& r : result.runs) runs.push_back(run_json(r, result.config, timings));
  ojson aggregate = ojson::array();
  auto entry = [](const std::string& act, double lr, Index runs, Index reached, const Spread& steps,
                  const Spread& speedup) {
    return ojson{{"activation", act}, {"lr", lr}, {"runs", runs}, {"reached_target", reached},
                 {"steps_to_target", spread_json(steps)}, {"speedup", spread_json(speedup)}};
  };
  for (const ActivationAggregate& a : result.aggregate) {
    ojson j = entry(a.activation, a.lr, a.runs, a.reached, a.steps_to_target, a.speedup);
    j["diverged"] = a.diverged;
    aggregate.push_back(std::move(j));
  }
  ojson best = ojson::array();
  for (const BestRate& b : result.best)
    best.push_back(entry(b.activation, b.lr, b.runs, b.reached, b.steps_to_target, b.speedup));
  const DatasetInfo& d = result.data;
  const ojson doc = {{"schema_version", kSchemaVersion},
                     {"tool", "gradflow"},
                     {"version", GRADFLOW_VERSION},
                     {"command", "train"},
                     {"context", context_json(result.config.net.dtype)},
                     {"config", train_config_json(result.config, d)},
                     {"data",
                      {{"name", d.name},
                       {"features", d.features},
                       {"classes", d.classes},
                       {"n_train", d.n_train},
                       {"n_test", d.n_test},
                       {"feature_names", d.feature_names},
                       {"class_names", d.class_names}}},
                     {"interrupted", result.interrupted},
                     {"speedup_vs", result.config.speedup_reference()},
                     {"aggregate", std::move(aggregate)},
                     {"best_lr", std::move(best)},
                     {"runs", std::move(runs)}};
  return dump_json(doc, 2) + "\n";
}

}  // namespace gf
