#pragma once
// `--model FILE.onnx` and its companions (analyze; list shows the layers): the user's own
// network, read by model/, replacing the flags that would build one.
#include "config/cli_fwd.h"
#include <string>

#include "core/analysis.h"

namespace gf {

struct ModelOptions {
  std::string model;                  // FILE.onnx; "" for the flags' network
  std::string weights_from = "model";  // model: the file's weights; init: fresh ones (--init ...)
  std::string data;                   // FILE.csv: the batch, its first -b rows in file order
  std::string label_col;              // "" = the last column
  std::string bn_mode = "running";    // BatchNormalization: running (inference) or batch statistics
};

// --model, --weights-from, --data, --label-col, --bn-mode. --model excludes the flags that build a network
// (they must already be on `cmd`).
void add_model_options(CLI::App& cmd, ModelOptions& m);

// The model (and the data) into c: its ops and weights, and depth, widths, input width, classes
// and activation set from it, so that reports describe what ran. Throws UsageError naming the flag.
void apply_model_options(const ModelOptions& m, AnalysisConfig& c);

// analyze --theory with --model: mean-field theory predicts i.i.d. weights drawn by a scheme, over
// inputs drawn by --input, through a stack of one activation; so it applies to a model that is such a
// stack, at --weights-from init, without --data. Throws UsageError saying which condition fails.
void check_theory_for_model(const AnalysisConfig& c);

// g as c's network (its own weights unless c.model_weights is false), with depth, widths, input
// width, classes and the activation (its first layer's) set from it.
void use_model(std::shared_ptr<const GivenNetwork> g, std::string path, AnalysisConfig& c);

}  // namespace gf
