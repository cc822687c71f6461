#include "config/network_options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>

#include "base/errors.h"
#include "base/json_io.h"
#include "config/arch_file.h"
#include "config/model_options.h"
#include "config/replaced_options.h"
#include "config/validators.h"
#include "core/summary.h"

namespace gf {

void add_network_options(CLI::App& cmd, AnalysisConfig& c, SharedFiles* files) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::string act_help = "Activations to compare, comma-separated:";
  for (const Activation& a : activations()) act_help += fmt::format("\n  {:<11} {}", a.name, a.description);

  add_list_option(cmd, "-a,--activation", c.activations, act_help, one_of(activation_names(), false))
      ->type_name("LIST")
      ->default_str("sigmoid,tanh,relu")
      ->group("Network");
  cmd.add_option("-d,--depth", c.depth, "Number of hidden layers L")
      ->type_name("L")
      ->default_str(std::to_string(c.depth))
      ->check(whole_number(1, 100000))
      ->group("Network");
  add_list_option(cmd, "-w,--width", c.width, "Units per hidden layer: one number, or a comma list of L",
                  whole_number(1, 1 << 20))
      ->type_name("N[,N...]")
      ->default_str("256")
      ->group("Network");
  cmd.add_option("--input-dim", c.input_dim, "Input features n_0")
      ->type_name("N")
      ->default_str("the first width")
      ->check(whole_number(1, 1 << 20))
      ->group("Network");
  cmd.add_option("-b,--batch", c.batch, "Samples per batch B")
      ->type_name("B")
      ->default_str(std::to_string(c.batch))
      ->check(whole_number(1, 1 << 24))
      ->group("Network");
  cmd.add_option("--classes", c.classes, "Outputs of the linear head (and classes of the labels)")
      ->type_name("C")
      ->default_str(std::to_string(c.classes))
      ->check(whole_number(2, 1 << 20))
      ->group("Network");
  cmd.add_option("--input", c.input,
                 "Input distribution: normal N(0,1), uniform U[-1,1], positive U[0,1] (all-positive "
                 "inputs, for the zero-centring question)")
      ->type_name("KIND")
      ->default_str("normal")
      ->transform(enum_choice(input_kind_names()))
      ->group("Network");
  cmd.add_option("--loss", c.loss,
                 "Loss on the head: xent (softmax cross-entropy, random labels), mse (N(0,1) "
                 "targets), random (backpropagate a fixed Gaussian direction: mean-field theory's "
                 "assumption)")
      ->type_name("KIND")
      ->default_str("xent")
      ->transform(enum_choice(loss_kind_names()))
      ->group("Network");
  cmd.add_option("--leaky-slope", c.leaky_slope, "Slope of leaky_relu for x < 0")
      ->type_name("S")
      ->default_str("0.01")
      ->transform(real_number(-kInf, kInf))
      ->group("Network");

  cmd.add_option("--residual", c.residual,
                 "Residual blocks of K dense layers: s' = s + alpha F(s), F(s) = W_K phi(... phi(W_1 s + b_1) ...) + "
                 "b_K (activation after each layer but the last, which is linear: the ResNet basic block). 0: a "
                 "plain stack. --depth counts dense layers (a multiple of K) and every layer has one width; when "
                 "--input-dim differs, a linear dense layer first (layer 1) projects the data onto the stream. JSON "
                 "adds a record per block (stream RMS, stream gradient, branch-to-stream variance)")
      ->type_name("K")
      ->default_str("0")
      ->check(whole_number(0, 100000))
      ->group("Network");
  cmd.add_option("--residual-scale", c.residual_scale,
                 "alpha of every block: a number; 0 makes every block the identity at init (ReZero, Bachlechner "
                 "et al. 2020; SkipInit); invsqrt-blocks = 1/sqrt(blocks) keeps the stream's variance bounded "
                 "(it grows as (1 + alpha^2 v)^blocks for a branch of gain v)")
      ->type_name("ALPHA")
      ->default_str("1")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            double x = 0;
            if (v == "invsqrt-blocks" || parse_real_text(v, x)) return {};
            return fmt::format("'{}' is not allowed: give a number (0 for ReZero, 0.5, 1/8) or invsqrt-blocks", v);
          },
          ""))
      ->group("Network");
  cmd.add_option("--norm", c.norm,
                 "Normalisation between each dense layer's product and its activation, h -> N(h) -> phi, with a "
                 "learned gain (1 at init) and shift (0): batch (BatchNorm: each unit over the batch, biased "
                 "variance, PyTorch's training-mode forward), layer (LayerNorm: each sample over the units), rms "
                 "(RMSNorm: h / sqrt(mean(h^2) + eps) per sample), none. The layer's statistics are taken at the "
                 "activation's input N(h); JSON adds norm_grad_ratio_log10, the gradient's gain across the norm")
      ->type_name("KIND")
      ->default_str("none")
      ->transform(enum_choice(norm_kind_names()))
      ->group("Network");
  cmd.add_option("--norm-position", c.norm_position,
                 "With --norm and --residual: where each block's norm sits: pre, on the branch's input, s' = s + "
                 "alpha F(N(s)) (Pre-LN); post, on the block's output, s' = N(s + alpha F(s)) (Post-LN, the original "
                 "transformer; Xiong et al. 2020). A plain stack's norm is always between product and activation")
      ->type_name("WHERE")
      ->default_str("pre")
      ->transform(enum_choice(norm_position_names()))
      ->group("Network");
  cmd.add_option("--norm-eps", c.norm_eps, "With --norm: eps in sigma = sqrt(variance + eps)")
      ->type_name("EPS")
      ->default_str("1e-5")
      ->transform(real_number(0, kInf, true))
      ->group("Network");
  cmd.add_option("--dropout", c.dropout,
                 "Inverted dropout after every hidden activation: a = phi(h) m / (1 - p), m ~ Bernoulli(1 - p), "
                 "not after the head; in a residual net after each branch activation (not on the stream, the "
                 "input projection or a branch's linear last layer). The mask depends only on seed, layer, sample "
                 "and unit (train: and the step; evaluation without dropout); analyze measures the masked network "
                 "at init, its saturation and dead-unit statistics still at phi's input (analyze --jacobian: that "
                 "network's J, each sample with its own mask; analyze --theory: its mean field, in plain stacks "
                 "without norms)")
      ->type_name("P")
      ->default_str("0")
      ->transform(real_number(0, 1, false, true))
      ->group("Network");

  // Added after every flag it replaces: CLI11 runs callbacks in the order options were added, so
  // --input-dim is known when the file is read, and so is which of those flags were given.
  cmd.add_option("--arch", c.arch,
                 "The whole network from a JSON file, for what the flags cannot say: per-layer width, activation "
                 "(and its parameter), norm, dropout, and residual blocks of any layers (README: \"--arch\"; "
                 "configs/arch/). Replaces -a, -d, -w, --leaky-slope, --residual, --residual-scale, --norm, "
                 "--norm-position, --norm-eps and --dropout")
      ->type_name("FILE")
      ->each([&cmd, &c, files](const std::string& path) {
        std::vector<std::string> given;
        for (const std::string& name : arch_replaced_options())
          if (cmd.count("--" + name) > 0) given.push_back("--" + name);
        if (!given.empty()) throw UsageError(arch_replaces_message(path, given));
        if (!files) return load_arch(path, c);
        load_arch_text(shared_arch_text(*files, path, [&path] { return read_input_file(path, "--arch"); }), path, c);
      })
      ->group("Network");

  std::string init_help =
      "Weight initialisation, one of auto or:";
  for (const InitScheme& s : init_schemes()) init_help += fmt::format("\n  {:<15} Var {}", s.name, s.variance);
  init_help += fmt::format("\n  {:<15} {}", kFixup, kFixupHelp);
  init_help += "\nauto picks, layer by layer, the scheme of the layer's activation: he_normal for relu, "
      "leaky_relu, elu, gelu and silu, lecun_normal for selu, xavier_normal otherwise (a linear layer: "
      "the nearest activation's before it)";
  cmd.add_option("--init", c.init, init_help)
      ->type_name("SCHEME")
      ->default_str("auto")
      ->check(one_of(init_names(true), false))
      ->group("Initialisation");
  cmd.add_option("--sigma-w2", c.sigma_w2,
                 "Weight variance in mean-field form: W ~ N(0, S/fan_in) (with --init orthogonal: "
                 "gain^2). Every number may be written as a fraction: 25/9")
      ->type_name("S")
      ->transform(real_number(0, kInf, true))
      ->group("Initialisation");
  cmd.add_option("--gain", c.gain,
                 "Scale the init as torch.nn.init's gain does: std = G x the scheme's std at gain 1, "
                 "so xavier_*: G sqrt(2/(fan_in+fan_out)) (torch's xavier_normal_(gain=G)); he_*, lecun_normal: "
                 "G/sqrt(fan_in), i.e. W ~ N(0, G^2/fan_in) (torch's kaiming_normal_, whose relu gain sqrt(2) is "
                 "He's); orthogonal: G x an orthogonal matrix. Fractions work: --gain 5/3 (torch's tanh gain)")
      ->type_name("G")
      ->transform(real_number(0, kInf, true))
      ->group("Initialisation");
  cmd.add_option("--weight-std", c.weight_std, "Fixed weight std: W ~ N(0, S^2), e.g. the classic 0.01")
      ->type_name("S")
      ->transform(real_number(0, kInf, true))
      ->group("Initialisation");
  cmd.add_option("--bias-init", c.bias_init, "Every bias set to this constant")
      ->type_name("C")
      ->default_str("0")
      ->transform(real_number(-kInf, kInf))
      ->group("Initialisation");
  cmd.add_option("--sigma-b2", c.sigma_b2, "Random biases instead: b ~ N(0, V)")
      ->type_name("V")
      ->transform(real_number(0, kInf))
      ->group("Initialisation");
  cmd.add_option("--seed", c.seed, "Seed of every random draw (inputs, labels, weights)")
      ->type_name("N")
      ->default_str("0")
      ->check(whole_number(0, std::numeric_limits<long long>::max()))
      ->group("Initialisation");

  cmd.add_option("--sat-eps", c.sat_eps,
                 "A unit-sample is saturated when |phi'(h)| < sat-eps x the maximum slope of phi")
      ->type_name("E")
      ->default_str("0.1")
      ->transform(real_number(0, 1, true, true))
      ->group("Measurement");
  cmd.add_option("--saturated-when", c.saturated_when,
                 "Saturation by the output's value instead, for bounded activations: |phi(h) - centre| > V x half "
                 "phi's range, i.e. |tanh(h)| > V (Karpathy's |tanh| > 0.97 is 0.97), sigmoid within (1-V)/2 of 0 or "
                 "1; unbounded activations keep the slope test. For tanh and sigmoid it equals --sat-eps 1-V^2 "
                 "(0.97: 0.0591)")
      ->type_name("V")
      ->transform(real_number(0, 1, true, true))
      ->group("Measurement");
  cmd.add_option("--dtype", c.dtype,
                 "Floating-point type of the computation; f64 where a run's note or verdict says "
                 "f32's range or rounding limits it")
      ->type_name("TYPE")
      ->default_str("f32")
      ->transform(enum_choice(dtype_names()))
      ->group("Measurement");

  cmd.add_flag("--jacobian", c.jacobian,
               "Also the singular values s of the input-output Jacobian J = d a_L / d x at the batch's first "
               "--jacobian-samples inputs, formed in f64: mean and variance of s^2, largest and smallest s, "
               "condition number, numerical rank and an isometry score (dynamical isometry: every s near 1). "
               "Costs O(L n^3) per sample for width n (width 1024, depth 64, 4 samples: seconds; the README "
               "has the measured time)")
      ->group("Measurement");
  cmd.add_option("--jacobian-samples", c.jacobian_samples,
                 "With --jacobian: how many of the batch's inputs (the first), each with its own J")
      ->type_name("N")
      ->default_str(std::to_string(c.jacobian_samples))
      ->check(whole_number(1, 1 << 20))
      ->group("Measurement");
  cmd.add_option("--jacobian-probes", c.jacobian_probes,
                 "With --jacobian: estimate the mean and spread of s^2 from J V, V of K >= 3 random Gaussian directions "
                 "per sample, instead of forming J and its SVD: O(L n^2 K) per sample instead of O(L n^3), for "
                 "widths where n^3 is too much. mean s^2 and var s^2 are unbiased; each estimate comes with its "
                 "standard error (jackknife over the probes: jac_s2_mean_rel_se, jac_s2_var_rel_se), typically "
                 "sqrt(2 (1 + v) / (K n S)) relative for mean s^2 and 2 (1 + v) / (K sqrt(S)) for v = var/mean^2 "
                 "(S = --jacobian-samples; more for heavy-tailed spectra such as deep Gaussian nets). s_max, s_min, "
                 "condition, rank and isometry need the exact J and are null. 0: the exact J")
      ->type_name("K")
      ->default_str("0")
      ->check(whole_number(0, 1 << 16))
      ->group("Measurement");
  add_list_option(cmd, "--jacobian-depths", c.jacobian_depths,
                  "With --jacobian: also the same figures for the partial Jacobians d a_L / d a_l, a_l the output "
                  "of layer l (0: the input, J itself), to see where the spectrum spreads: JSON's "
                  "jacobian_partials, one record per l. In a residual net l is on the stream (0, or the "
                  "projection's layer plus a multiple of --residual). Each costs (L - l) / L of J's product",
                  whole_number(0, 100000))
      ->type_name("L[,L...]")
      ->group("Measurement");

  for (const ThresholdFlag& f : threshold_flags())
    cmd.add_option("--" + std::string(f.name), c.thresholds.*f.field, std::string(f.help))
        ->type_name(std::string(f.type_name))
        ->default_str(fmt::format("{:g}", Thresholds{}.*f.field))
        ->transform(f.fraction ? real_number(0, 1) : real_number(0, kInf, true))
        ->group("Verdicts");

  cmd.add_option("-j,--threads", c.threads, "Threads; results are identical for any number")
      ->type_name("N")
      ->default_str("all cores")
      ->check(whole_number(1, 4096))
      ->group("Resources");
  cmd.add_option("--weights", c.weights,
                 "Keep every layer's weights (store), or draw them again for the backward pass "
                 "(regenerate: memory grows with activations only); auto stores when it fits "
                 "--max-memory. Results are identical")
      ->type_name("MODE")
      ->default_str("auto")
      ->transform(enum_choice(weights_mode_names()))
      ->group("Resources");
  cmd.add_option("--max-memory", c.max_memory, "Refuse networks estimated to need more memory")
      ->type_name("SIZE")
      ->default_str("8G")
      ->transform(byte_size())
      ->group("Resources");
}

}  // namespace gf
