#pragma once
// What `gradflow train` records every --log-every steps for each run, and the run itself. The
// trace (JSON Lines), the JSON report, the table and any plot read these records; the per-layer
// keys come from the one metric list, train_layer_metrics() (metrics.h).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"

namespace gf {

// Hidden layer l at one log step: the fields of LayerStats that train_layer_metrics() names.
// Gradient and update: of the step just taken (on its mini-batch); the rest: on the fixed
// evaluation batch after that step.
using LayerRecord = LayerStats;

struct LogRecord {
  Index step = 0;           // updates taken so far (0: the initial network)
  double loss = kNaN;       // mean loss on the evaluation batch
  double batch_loss = kNaN; // loss of this step's mini-batch, before its update
  double train_error = kNaN, test_error = kNaN;  // evaluation batch; whole test set
  std::vector<LayerRecord> layers;  // layers[l - 1] for hidden layer l
  // Residual nets, from the step just taken (its mini-batch, before its update; none at step 0):
  // blocks[k - 1] for block k (block_metrics()), and a learned ReZero alpha after the update
  // (NaN where alpha is fixed).
  std::vector<BlockStats> blocks;
  std::vector<double> alpha;
};

enum class RunEnd { completed, stopped_at_target, diverged, interrupted };
std::string_view run_end_name(RunEnd e);

struct Divergence {
  Index step = 0;
  Index layer = 0;    // first layer with a non-finite value; depth + 1: the logits
  std::string where;  // "layer 3 pre-activations", "the logits", "layer 2 weight gradient"
  bool before_update = false;  // no update was taken yet: the learning rate is not to blame
  double largest_input = 0;    // the largest |feature| of the training set, for that message
};

// The few numbers that say what happened over a run (train_summary.h fills them in).
struct RunSummary {
  double final_loss = kNaN, final_train_error = kNaN, final_test_error = kNaN;
  double speedup = kNaN;  // the reference activation's steps to target (same seed and lr) / this run's
  // The largest rise of a layer's dead fraction from an earlier log step to a later one.
  Index dying_layer = 0, dying_from_step = 0, dying_to_step = 0;
  double dying_from = kNaN, dying_to = kNaN;
  double dead_units_frac_final = kNaN;  // over all hidden units, at the last log step
  // The top hidden layer's saturation on a flat tail (saturated_frac - inactive_frac: a relu's
  // zero half is judged as dead units, not saturation, as in `analyze`): start, peak, end.
  double top_saturated_initial = kNaN, top_saturated_peak = kNaN, top_saturated_final = kNaN;
  Index top_saturated_peak_step = 0;
  double top_act_mean_at_peak = kNaN;
  // Mean over log steps of dw_sign_coherence: layer 1 (it sees the data), and layers 2..L.
  double dw_sign_coherence_first = kNaN, dw_sign_coherence_hidden = kNaN;
  std::vector<std::string> sentences;  // prefixed "<activation> seed <s>: " (seed when several)
};

struct TrainRun {
  std::string activation;
  std::uint64_t seed = 0;
  double lr = kNaN;            // its learning rate
  bool lr_in_label = false;    // several learning rates were trained: labels name this one's
  std::string init;            // resolved, as `analyze` reports it
  RunEnd end = RunEnd::completed;
  Index steps_done = 0;
  // First step with train error <= --target-error, checked every step up to 100, then every
  // floor(step / 100) steps and at each log step: at most 1% late; -1: not reached.
  Index steps_to_target = -1;
  double seconds_to_target = kNaN, seconds = kNaN;  // wall-clock: in tables, never in JSON
  Divergence divergence;       // when end == diverged
  std::vector<LogRecord> log;  // every log step, in order; the last is the final state
  RunSummary summary;

  bool reached() const { return steps_to_target >= 0; }
  std::string label(bool with_seed) const;  // "relu", "relu seed 3", "relu lr 0.01 seed 3"
};

}  // namespace gf
