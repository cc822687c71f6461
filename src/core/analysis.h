#pragma once
// `analyze` as a library call: a fully resolved configuration in, one result per activation
// out. The CLI, config files, sweeps and baselines all go through AnalysisConfig.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/output_target.h"
#include "core/engine.h"
#include "core/given_network.h"
#include "core/jacobian_stats.h"
#include "core/enum_names.h"
#include "core/network.h"
#include "core/summary.h"

namespace gf {

struct AnalysisConfig {
  std::vector<std::string> activations{"sigmoid", "tanh", "relu"};
  Index depth = 20;
  std::vector<Index> width{256};  // one width for every layer, or one per layer
  Index input_dim = 0;            // 0: the first hidden width
  Index batch = 256;
  Index classes = 10;
  std::uint64_t seed = 0;
  InputKind input = InputKind::normal;
  LossKind loss = LossKind::xent;
  std::string init = "auto";
  std::optional<double> sigma_w2;
  std::optional<double> weight_std;
  std::optional<double> gain;  // torch.nn.init's gain for the scheme
  double bias_init = 0.0;
  std::optional<double> sigma_b2;
  double leaky_slope = 0.01;
  double sat_eps = 0.1;
  std::optional<double> saturated_when;  // saturation by |output| for bounded activations
  // Residual blocks (layer_op.h's residual_stack): K dense layers per block, 0 for a plain stack;
  // alpha as typed: a number or "invsqrt-blocks" (1/sqrt(depth / K)).
  Index residual = 0;
  std::string residual_scale = "1";
  // --norm (core/op_norm): in a plain stack between each dense layer's product and its
  // activation; its eps.
  NormKind norm = NormKind::none;
  double norm_eps = 1e-5;
  NormPosition norm_position = NormPosition::pre;  // residual nets: where each block's norm sits
  // --dropout p (core/dropout.h): after every hidden activation (residual nets: each branch
  // activation); 0: none.
  double dropout = 0;
  // --arch FILE (config/arch_file.h): the file's name, and its hidden layers as ops (network_spec
  // adds the head) with each op's entry in the file ("layers[2].block[0]") for messages. Without
  // ops when the file says only what flags can say: then the flags are set from it instead (the
  // same network, the same document as the flag form).
  std::string arch;
  std::uint64_t arch_fnv1a64 = 0;  // of the file's bytes: a baseline replays only the file it recorded
  std::vector<LayerOp> arch_ops;
  std::vector<std::string> arch_entries;
  Dtype dtype = Dtype::f32;
  Thresholds thresholds;
  WeightsMode weights = WeightsMode::automatic;
  std::uint64_t max_memory = std::uint64_t{8} << 30;
  int threads = 0;  // 0: every core. Never changes a result, so not part of the output.
  bool jacobian = false;       // --jacobian: the input-output Jacobian's spectrum (jacobian_stats.h)
  Index jacobian_samples = 4;  // its samples: the batch's first
  std::vector<Index> jacobian_depths;  // --jacobian-depths: also d a_L / d a_l at these l
  Index jacobian_probes = 0;  // --jacobian-probes K: estimate from J V (K random directions), 0: exact
  // --model (core/given_network.h): the network read from model_path replaces the flags' stack
  // (depth, width, input-dim, classes and activations are set from it), with its own weights
  // unless --weights-from init; --data: the batch, the first `batch` rows of data_path.
  std::shared_ptr<const GivenNetwork> model;
  std::string model_path;
  bool model_weights = true;
  std::shared_ptr<const GivenBatch> data;
  std::string data_path;
  std::string label_col;              // --label-col as given ("" = the last column)
  std::string bn_mode = "running";    // --bn-mode: a model's BatchNormalizations, running or batch
  // FNV-1a 64 of the model's and the data file's bytes as read (base/fnv1a.h), recorded beside
  // their paths so that a baseline replayed from another file is refused, not compared.
  std::uint64_t model_fnv1a64 = 0, data_fnv1a64 = 0;

  std::vector<Index> widths() const;  // n_0 .. n_L
  // The dense layers a run records: depth, plus the residual stream's input projection when
  // --input-dim differs from the width (layer_op.h's residual_stack).
  Index layer_count() const;
  double residual_alpha() const;      // residual_scale resolved; throws UsageError naming the flag
  int thread_count() const;
};

// --residual-scale's text as alpha for `depth` layers in blocks of `residual`: a number, or
// invsqrt-blocks (1/sqrt of the number of blocks); throws UsageError naming the flag.
double residual_alpha(const std::string& scale, Index depth, Index residual);

// The flags' residual grouping, as analyze and theory take it: --residual 0 or K >= 2 dividing
// --depth, and --init fixup only where there are blocks (`given_blocks`: an --arch file's own);
// throws UsageError naming the flags.
void check_residual_flags(Index residual, Index depth, const std::string& init, bool given_blocks = false);

// Checks what the flags cannot check one by one; throws UsageError naming the flags.
void validate(const AnalysisConfig& c);

// The network for one activation of the config: init resolved, weights path chosen.
NetworkSpec network_spec(const AnalysisConfig& c, const Activation& act);
// Whether that network regenerates its weights (--weights, --max-memory); throws UsageError
// when it fits neither way.
bool choose_regenerate(const AnalysisConfig& c, const NetworkSpec& spec);
// What counts as saturated for this activation, in words ("|tanh| above 0.97").
std::string saturation_text(const AnalysisConfig& c, const Activation& act);

struct RunResult {
  std::string activation;
  std::string init;  // resolved: "he_normal", "sigma_w2=4", "weight_std=0.01"
  bool regenerated_weights = false;
  PassResult pass;
  Summary summary;
  std::optional<JacobianStats> jacobian;  // --jacobian, from a finite forward pass
  std::vector<double> jacobian_log10_s2;  // and its resolved s^2, log10 (resolved_log10_s2)
  std::vector<PartialJacobianStats> jacobian_partials;  // --jacobian-depths, in the order given
  std::vector<std::string> layer_names;  // --model: each hidden layer's name in the file; else empty
};

struct AnalysisResult {
  AnalysisConfig config;
  std::vector<RunResult> runs;
};

// One run per activation, in order. Every run sees the same inputs, labels and weight draws.
// `on_run(i, n, activation)` is called before run i of n (for progress displays).
using RunProgress = std::function<void(std::size_t, std::size_t, std::string_view)>;
AnalysisResult run_analysis(const AnalysisConfig& c, const RunProgress& on_run = {});
RunResult run_one(const AnalysisConfig& c, const Activation& act);

std::string format_bytes(std::uint64_t bytes);

// The files a config reads (--model, --data, --arch): no output may replace them.
std::vector<InputFile> input_files(const AnalysisConfig& c);

}  // namespace gf
