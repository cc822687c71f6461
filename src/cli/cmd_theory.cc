#include "cli/cmd_theory.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <limits>
#include <unistd.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/output.h"
#include "cli/cmd_analyze.h"
#include "config/config_file.h"
#include "config/validators.h"
#include "report/plots.h"
#include "report/report_theory.h"

namespace gf {

namespace {

CLI::Validator number_or_range() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          parse_range(value);
          return "";
        } catch (const std::invalid_argument& e) {
          return fmt::format("'{}' is not allowed: {}; give a number, or START:STOP:STEP with --phase-diagram "
                             "(e.g. 0.5:4:0.05)",
                             value, e.what());
        }
      },
      "");
}

}  // namespace

CLI::App* setup_theory(CLI::App& app, TheoryOptions& o) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  TheoryConfig& c = o.config;
  CLI::App* cmd = app.add_subcommand(
      "theory",
      "What mean-field theory predicts for a deep network at initialisation: the variance q_l of "
      "pre-activations layer by layer and its fixed point q*, the gradient factor chi_1, the depth "
      "scales xi_q, xi_c, xi_grad, the phase (ordered, critical, chaotic) and the edge of chaos, the "
      "gradient profile, and dead ReLUs. With --phase-diagram, chi_1 and xi_c over a grid of "
      "(sigma_w2, sigma_b2) with the critical line.");
  add_list_option(*cmd, "-a,--activation", c.activations, "Activations, comma-separated", one_of(activation_names()))
      ->type_name("LIST")
      ->default_str("sigmoid,tanh,relu")
      ->group("Network");
  cmd->add_option("-d,--depth", c.depth, "Number of hidden layers L")
      ->type_name("L")
      ->default_str(std::to_string(c.depth))
      ->check(whole_number(1, 100000))
      ->group("Network");
  cmd->add_option("-w,--width", c.width,
                  "Units per layer: only for --weight-std, the born-dead probability and the weight-gradient "
                  "profile (the theory itself is for infinite width)")
      ->type_name("N")
      ->default_str(std::to_string(c.width))
      ->check(whole_number(1, 1 << 20))
      ->group("Network");
  cmd->add_option("-b,--batch", c.batch, "Inputs per batch: a unit is dead when flat on all of them")
      ->type_name("B")
      ->default_str(std::to_string(c.batch))
      ->check(whole_number(1, 1 << 24))
      ->group("Network");
  cmd->add_option("--input", c.input, "Input distribution (its second moments set q_1 and c_1): normal, uniform, positive")
      ->type_name("KIND")
      ->default_str("normal")
      ->transform(enum_choice(input_kind_names()))
      ->group("Network");
  cmd->add_option("--leaky-slope", c.leaky_slope, "Slope of leaky_relu for x < 0")
      ->type_name("S")
      ->default_str("0.01")
      ->transform(real_number(-kInf, kInf))
      ->group("Network");
  cmd->add_option("--residual", c.residual,
                  "Residual blocks of K dense layers, as in `analyze` (s' = s + alpha F(s), the branch's last layer "
                  "linear): the stream's RMS, its gradient and the branch-to-stream ratio per block (Yang & "
                  "Schoenholz 2017). 0: a plain stack")
      ->type_name("K")
      ->default_str("0")
      ->check(whole_number(0, 100000))
      ->group("Network");
  cmd->add_option("--residual-scale", c.residual_scale,
                  "alpha of every block: a number (0: ReZero, every block the identity) or invsqrt-blocks")
      ->type_name("ALPHA")
      ->default_str("1")
      ->group("Network");
  cmd->add_option("--norm", c.norm,
                  "Normalisation between each dense layer's product and its activation, in a plain stack: layer, "
                  "rms (u's fixed point and the gradient across the norm), batch (over the batch, in its large-batch "
                  "limit: the gradient grows by E[phi'^2]/Var[phi] per layer whatever the init, pi/(pi-1) for "
                  "relu, Yang et al. 2019), none. With --residual: layer or rms, one per block at --norm-position")
      ->type_name("KIND")
      ->default_str("none")
      ->transform(enum_choice(norm_kind_names()))
      ->group("Network");
  cmd->add_option("--norm-position", c.norm_position,
                  "With --norm and --residual, as in `analyze`: pre, s' = s + alpha F(N(s)) (Pre-LN: the stream "
                  "grows linearly); post, s' = N(s + alpha F(s)) (Post-LN: the gradient changes geometrically; "
                  "Xiong et al. 2020)")
      ->type_name("WHERE")
      ->default_str("pre")
      ->transform(enum_choice(norm_position_names()))
      ->group("Network");
  cmd->add_option("--norm-eps", c.norm_eps, "With --norm: eps in sigma = sqrt(variance + eps)")
      ->type_name("EPS")
      ->default_str("1e-5")
      ->transform(real_number(0, kInf, true))
      ->group("Network");
  cmd->add_option("--init", c.init,
                  "Weight initialisation, read as sigma_w2 = fan_in x Var(W) for equal widths (he_normal 2, "
                  "lecun_normal 1, xavier 1, orthogonal 1); auto as in `analyze`; fixup with --residual")
      ->type_name("SCHEME")
      ->default_str("auto")
      ->check(one_of(init_names(true)))
      ->group("Initialisation");
  cmd->add_option("--sigma-w2", o.sigma_w2,
                  "Weight variance x fan_in; with --phase-diagram a range START:STOP:STEP")
      ->type_name("S|A:B:STEP")
      ->default_str(fmt::format("from --init; {} with --phase-diagram", kDefaultSigmaW2Range))
      ->check(number_or_range())
      ->group("Initialisation");
  cmd->add_option("--sigma-b2", o.sigma_b2, "Variance of the random biases; with --phase-diagram a range")
      ->type_name("V|A:B:STEP")
      ->default_str(fmt::format("0; {} with --phase-diagram", kDefaultSigmaB2Range))
      ->check(number_or_range())
      ->group("Initialisation");
  cmd->add_option("--gain", c.gain,
                  "torch.nn.init's gain for the scheme, as in `analyze`: sigma_w2 = G^2 x the scheme's at gain 1 (he_normal "
                  "--gain G: G^2; --init auto -a tanh --gain 5/3: 25/9)")
      ->type_name("G")
      ->transform(real_number(0, kInf, true))
      ->group("Initialisation");
  cmd->add_option("--weight-std", c.weight_std, "Fixed weight std S: sigma_w2 = width x S^2")
      ->type_name("S")
      ->transform(real_number(0, kInf, true))
      ->group("Initialisation");
  cmd->add_option("--bias-init", c.bias_init, "A constant added to every bias: the mean of every pre-activation")
      ->type_name("C")
      ->default_str("0")
      ->transform(real_number(-kInf, kInf))
      ->group("Initialisation");
  cmd->add_flag("--phase-diagram", c.phase_diagram,
                "Evaluate a grid of --sigma-w2 x --sigma-b2: chi_1, xi_c and the phase per cell, and the critical line")
      ->group("Theory");
  cmd->add_flag("--jacobian", c.jacobian,
                "Also free probability's prediction for the input-output Jacobian J (Pennington et al. 2017): log10 of "
                "the mean of s^2 over J's singular values s, and their variance / mean^2 (0: isometry)")
      ->group("Theory");
  cmd->add_option("--critical-tol", c.critical_tol, "The phase is critical when |chi_1 - 1| is at most this")
      ->type_name("T")
      ->default_str("0.01")
      ->transform(real_number(0, 1))
      ->group("Theory");
  cmd->add_option("-j,--threads", c.threads, "Threads for --phase-diagram; results are identical for any number")
      ->type_name("N")
      ->default_str("all cores")
      ->check(whole_number(1, 4096))
      ->group("Resources");
  cmd->add_option("--config", o.config_file,
                  std::string("Read options from a JSON file whose keys are the long option names; ") + kConfigPathsHelp)
      ->type_name("FILE")
      ->configurable(false)
      ->group("Input");
  add_output_options(*cmd, o.format, {"table", "json", "csv"}, o.output, &o.color);
  cmd->add_option("--plot", o.plot,
                  "Also draw an SVG: the predicted gradient profile and q_l, or with --phase-diagram a heatmap "
                  "with the critical line")
      ->type_name("FILE.svg")
      ->group("Output");
  cmd->add_option("--plot-metric", o.plot_metric, "What the phase-diagram heatmap shows")
      ->type_name("METRIC")
      ->default_str("chi_1")
      ->check(one_of({"chi_1", "xi_c"}))
      ->group("Output");
  cmd->add_flag("--all-layers", o.all_layers, "Table: show every layer (past 25 rows are thinned evenly)")->group("Output");
  cmd->footer(
      "Examples:\n"
      "  gradflow theory -a tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 50\n"
      "  gradflow theory -a relu,tanh,selu --init auto --format json\n"
      "  gradflow theory -a tanh --phase-diagram --sigma-w2 0.5:4:0.05 --sigma-b2 0:0.3:0.01 --plot phase.svg\n"
      "  gradflow theory -a sigmoid -d 50 --residual 2\n"
      "  gradflow theory -a relu,tanh --norm batch      BatchNorm's gradient explosion, per activation\n"
      "Expectations over the Gaussian pre-activations are computed by Gauss-Legendre quadrature split at\n"
      "the activation's kinks (one input: to 1e-10; two inputs: to 1e-7), or in closed form for relu,\n"
      "leaky_relu and identity. JSON has null where a depth scale is infinite (at criticality).\n"
      "`gradflow analyze --theory` puts these predictions beside measured values.");
  return cmd;
}

int run_theory(const TheoryOptions& o) {
  TheoryConfig c = o.config;
  c.sigma_w2_text = o.sigma_w2;
  c.sigma_b2_text = o.sigma_b2;
  if (!o.sigma_w2.empty()) c.sigma_w2 = parse_range(o.sigma_w2);
  if (!o.sigma_b2.empty()) c.sigma_b2 = parse_range(o.sigma_b2);
  if (c.phase_diagram) {
    if (c.sigma_w2.empty()) c.sigma_w2_text = kDefaultSigmaW2Range;
    if (c.sigma_b2.empty()) c.sigma_b2_text = kDefaultSigmaB2Range;
  }
  validate(c);
  ReportSink sink(o.output);
  std::optional<ReportSink> plot = open_plot(o.plot, sink);

  TableOptions t;
  t.all_layers = o.all_layers;
  t.style.color = sink.is_stdout() && color_enabled(o.color, STDOUT_FILENO);
  t.style.utf8 = utf8_locale();
  if (c.phase_diagram) {
    const std::vector<PhaseDiagram> d = run_phase_diagram(c);
    if (plot) plot->write(phase_plot(c, d, o.plot_metric == "xi_c" ? PhaseMetric::xi_c : PhaseMetric::chi_1));
    sink.write(o.format == "json" ? phase_json(c, d) : o.format == "csv" ? phase_csv(d) : phase_table(c, d, t.style));
    return kExitOk;
  }
  const std::vector<TheoryResult> results = run_theory(c);
  if (plot) plot->write(theory_plot(c, results));
  sink.write(o.format == "json" ? theory_json(c, results) : o.format == "csv" ? theory_csv(results)
                                                                               : theory_table(c, results, t));
  return kExitOk;
}

}  // namespace gf
