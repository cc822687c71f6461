#include "core/run_json.h"

#include <cmath>
#include <fmt/format.h>

#include "base/build_info.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/summary.h"
#include "version.h"

namespace gf {

using ojson = nlohmann::ordered_json;

ojson number_or_null(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

namespace {
ojson index_or_null(Index v) { return v != 0 ? ojson(v) : ojson(nullptr); }
}  // namespace

ojson context_json(Dtype dtype) {
  return {{"git_sha", GRADFLOW_GIT_SHA},
          {"build_type", GRADFLOW_BUILD_TYPE},
          {"compiler", compiler_text()},
          {"eigen", eigen_version()},
          {"simd", simd_text()},
          {"dtype", dtype_name(dtype)}};
}

void add_residual_keys(ojson& j, const AnalysisConfig& c, bool every_key) {
  if (c.residual == 0 && !every_key) return;
  j["residual"] = c.residual;
  j["residual-scale"] = c.residual_scale;
}

void add_norm_keys(ojson& j, const AnalysisConfig& c, bool every_key) {
  if (c.norm == NormKind::none && !every_key) return;
  j["norm"] = norm_name(c.norm);
  j["norm-eps"] = c.norm_eps;
  if (c.residual != 0 || every_key) j["norm-position"] = norm_position_name(c.norm_position);
}

void add_dropout_key(ojson& j, const AnalysisConfig& c, bool every_key) {
  if (c.dropout != 0 || every_key) j["dropout"] = c.dropout;
  // --arch: only a file the flags cannot say (otherwise its flags are set, and the document is
  // the flag form's); depth, width and activation then describe its layers only in part.
  if (!c.arch_ops.empty()) {
    j["arch"] = c.arch;
    j["arch-fnv1a64"] = fmt::format("{:016x}", c.arch_fnv1a64);
  }
}

// Settings that cannot change a number (threads, weights stored or regenerated, max-memory)
// are left out, so that documents compare byte for byte.
ojson config_json(const AnalysisConfig& c, bool every_key) {
  std::vector<Index> widths = c.widths();
  ojson j = {{"activation", c.activations},
          {"depth", c.depth},
          {"width", std::vector<Index>(widths.begin() + 1, widths.end())},
          {"input-dim", widths[0]},
          {"batch", c.batch},
          {"classes", c.classes},
          {"seed", c.seed},
          {"input", input_name(c.input)},
          {"loss", loss_name(c.loss)},
          {"init", c.init},
          {"sigma-w2", optional_json(c.sigma_w2)},
          {"weight-std", optional_json(c.weight_std)},
          {"gain", optional_json(c.gain)},
          {"bias-init", c.bias_init},
          {"sigma-b2", optional_json(c.sigma_b2)},
          {"leaky-slope", c.leaky_slope},
          {"sat-eps", c.sat_eps},
          {"saturated-when", optional_json(c.saturated_when)},
          {"dtype", dtype_name(c.dtype)}};
  add_residual_keys(j, c, every_key);
  add_norm_keys(j, c, every_key);
  add_dropout_key(j, c, every_key);
  for (const ThresholdFlag& f : threshold_flags()) j[std::string(f.name)] = c.thresholds.*f.field;
  if (c.model) {  // only with --model: documents and run_ids without it stay as they were
    j["model"] = c.model_path;
    j["model-fnv1a64"] = fmt::format("{:016x}", c.model_fnv1a64);
    j["weights-from"] = c.model_weights ? "model" : "init";
    j["bn-mode"] = c.bn_mode;
  }
  if (c.data) {
    j["data"] = c.data_path;
    j["data-fnv1a64"] = fmt::format("{:016x}", c.data_fnv1a64);
    if (!c.label_col.empty()) j["label-col"] = c.label_col;
  }
  if (c.jacobian) {  // only when measured: documents and run_ids without it stay as they were
    j["jacobian"] = true;
    j["jacobian-samples"] = c.jacobian_samples;
    if (!c.jacobian_depths.empty()) j["jacobian-depths"] = c.jacobian_depths;
    if (c.jacobian_probes != 0) j["jacobian-probes"] = c.jacobian_probes;
  }
  return j;
}

ojson summary_json(const Summary& s) {
  ojson j = ojson::object();
  for (const SummaryMetric& m : summary_metrics()) j[std::string(m.key)] = number_or_null(s.*m.field);
  j["verdict"] = s.verdict;
  j["sentences"] = s.sentences;
  j["notes"] = s.notes;
  return j;
}

ojson layer_json(const LayerStats& l) {
  ojson j = {{"layer", l.layer}, {"fan_in", l.fan_in}, {"width", l.width}};
  for (const LayerMetric& m : layer_metrics()) j[std::string(m.key)] = number_or_null(l.*m.field);
  return j;
}

ojson jacobian_json(const JacobianStats& s) {
  ojson j = ojson::object();
  for (const JacobianMetric& m : jacobian_metrics()) j[std::string(m.key)] = number_or_null(s.*m.field);
  return j;
}

ojson run_json(const RunResult& r) {
  ojson layers = ojson::array();
  for (const LayerStats& l : r.pass.layers) {
    layers.push_back(layer_json(l));
    // --model: the layer's name in the file
    if (static_cast<std::size_t>(l.layer) <= r.layer_names.size())
      layers.back()["name"] = r.layer_names[static_cast<std::size_t>(l.layer) - 1];
  }
  ojson j = {{"activation", r.activation},
          {"init", r.init},
          {"finite", r.pass.overflow_layer == 0},
          {"overflow_layer", index_or_null(r.pass.overflow_layer)},
          {"zero_grad_layer", index_or_null(r.pass.zero_grad_layer)},
          {"inexact_layer", index_or_null(r.pass.inexact_layer)},
          {"summary", summary_json(r.summary)}};
  if (r.jacobian) j["jacobian"] = jacobian_json(*r.jacobian);
  if (!r.jacobian_partials.empty()) {  // --jacobian-depths: d a_L / d a_l, one record per l
    ojson partials = ojson::array();
    for (const PartialJacobianStats& p : r.jacobian_partials) {
      ojson one = {{"layer", p.layer}};
      one.update(jacobian_json(p.stats));
      partials.push_back(std::move(one));
    }
    j["jacobian_partials"] = std::move(partials);
  }
  j["layers"] = std::move(layers);
  if (!r.pass.blocks.empty()) {  // residual nets only
    ojson blocks = ojson::array();
    for (const BlockStats& b : r.pass.blocks) {
      ojson o = {{"block", b.block}, {"first_layer", b.first_layer}, {"last_layer", b.last_layer}};
      for (const BlockMetric& m : block_metrics()) o[std::string(m.key)] = number_or_null(b.*m.field);
      blocks.push_back(std::move(o));
    }
    j["blocks"] = std::move(blocks);
  }
  return j;
}

}  // namespace gf
