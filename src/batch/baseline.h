#pragma once
// Baseline mode of `gradflow check`: a JSON document written by `analyze --format json` is
// rerun from its own config block (keys are the long option names, so it is read like a
// --config file) and every summary and per-layer metric is compared with what was recorded, and
// --jacobian's figures and --jacobian-depths' partials when it has them.
//
// A value holds when |got - expected| <= atol + rtol * |expected| (numpy's isclose), with
// per-metric atol/rtol overrides, plus for fractions of counted things (saturated and inactive
// unit-samples, dead units, weight-gradient signs) a slack of a few counts: a value that sits
// on a threshold within rounding flips with the last bit, on another machine, and moves such a
// fraction by one count (1/(batch x width) for saturated_frac) however small the rounding.
// Undefined values (null) hold only against null. The integer
// fields overflow_layer and zero_grad_layer must match exactly. Verdicts and sentences are not
// compared: they follow from the metrics through thresholds, and a metric inside its tolerance
// can still sit on either side of a threshold.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/analysis.h"

namespace gf {

struct SharedFiles;  // config/model_options.h

struct Baseline {
  std::string path;
  nlohmann::ordered_json doc;
  AnalysisConfig config;  // what the document's config block resolves to
};

// The network an analyze document's config block describes (its keys are the long option names),
// as analyze resolves it; throws UsageError, prefixed by `where`, for a config this gradflow
// cannot reproduce.
// `files`: the command's files (config/model_options.h's SharedFiles), when it resolves other
// configs too (check's current config): the recorded files as checked are kept there, so that
// those configs run on the bytes checked and no file is read again; an --arch file read there
// already is checked from those bytes.
AnalysisConfig reproduce_config(const nlohmann::ordered_json& config, const std::string& where,
                                std::shared_ptr<SharedFiles> files = nullptr);

// Throws UsageError (exit 2) saying why: unreadable, not JSON, not an analyze document, another
// schema version, or a config this gradflow cannot reproduce. `files`: as for reproduce_config.
Baseline load_baseline(const std::string& path, std::shared_ptr<SharedFiles> files = nullptr);

struct Tolerance {
  double atol = 1e-4, rtol = 1e-4;
  double count_slack = 2;                             // counts, for count fractions
  std::map<std::string, double> atol_for, rtol_for;  // per metric
  double allowed(const std::string& metric, double expected, double count_quantum) const;
};

// The metrics compare_baseline compares for each run of a baseline written by this gradflow:
// the exact fields, the summary metrics and the per-layer metrics.
std::size_t baseline_metrics_per_run();

// What one count changes a count-fraction metric by, for a network of this config (layer 0:
// the summary's value); 0 for metrics that are not counts. From what each metric counts
// (metrics.h) and how a summary metric reduces it over layers (summary.h).
double count_quantum(const std::string& metric, Index layer, const AnalysisConfig& c);
// "metric=value" overrides; throws UsageError naming the flag for unknown metrics.
void add_overrides(std::map<std::string, double>& into, const std::vector<std::string>& specs,
                   const char* flag);

struct Mismatch {
  Index layer = 0;  // 0: a summary (or run-level) metric; the block's number in scope "blocks"
  nlohmann::ordered_json expected, got;
  double difference = kNaN;  // got - expected, when both are numbers
  double allowed = kNaN;
  std::string name;  // --model: the layer's name in the model file (the baseline's "name"); else empty
};

// One comparison group: one metric of one run, over every layer (or once for a summary metric).
struct ComparisonGroup {
  std::string run;    // the activation
  std::string scope;  // "run" (overflow_layer, zero_grad_layer), "summary", "jacobian",
                      // "jacobian_partials" (metric: jac_<figure>_from_<l>) "layers" or "blocks"
  std::string metric;
  std::size_t compared = 0;
  std::vector<Mismatch> mismatches;
};

// Runs are matched by activation. `now` is the baseline's own config rerun ("did gradflow
// change?") or the user's current config ("did my network change?"): then depths and widths may
// differ, a layer on one side only is a mismatch against null, and a baseline run with no
// current run fails (group "run"/"recorded"). Current runs the baseline lacks go to
// `not_in_baseline_runs`. Metrics this gradflow computes but the baseline lacks (added since it
// was recorded) are not compared; their names go to `not_in_baseline`.
std::vector<ComparisonGroup> compare_baseline(const Baseline& b, const AnalysisResult& now, const Tolerance& t,
                                              std::vector<std::string>& not_in_baseline,
                                              std::vector<std::string>& not_in_baseline_runs);

// A config key whose resolved value differs between the baseline and the current run.
struct ConfigChange {
  std::string key;
  nlohmann::ordered_json baseline, now;
  std::string text() const;  // "init: he_normal -> xavier_normal"
};
std::vector<ConfigChange> config_changes(const AnalysisConfig& baseline, const AnalysisConfig& now);

}  // namespace gf
