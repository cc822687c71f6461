#include "cli/cmd_bench.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/exit_status.h"
#include "base/json_io.h"
#include "base/output.h"
#include "cli/cmd_analyze.h"
#include "config/validators.h"
#include "core/activation.h"
#include "core/analysis.h"
#include "core/enum_names.h"
#include "report/report_json.h"
#include "version.h"

namespace gf {

CLI::App* setup_bench(CLI::App& app, BenchOptions& o) {
  ActivationBenchConfig& c = o.config;
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Time each activation with the kernels analyze runs: phi alone and phi with phi' over a "
      "large array (ns per element, and the ratio to relu), then inside one dense layer next to "
      "its matrix product, to show the activation's share of the work.");
  add_list_option(*cmd, "-a,--activation", c.activations,
                  "Activations to time, comma-separated (relu is always timed: it is the reference)",
                  one_of(activation_names(), false))
      ->type_name("LIST")
      ->default_str("all")
      ->group("Measurement");
  cmd->add_option("--dtype", c.dtype, "Floating-point type")
      ->type_name("TYPE")
      ->default_str("f32")
      ->transform(enum_choice(dtype_names()))
      ->group("Measurement");
  cmd->add_option("--size", c.size, "Elements in the array pass (three arrays of this length: h, phi, phi')")
      ->type_name("N")
      ->default_str(std::to_string(c.size))
      ->check(whole_number(1024, Index{1} << 28))
      ->group("Measurement");
  cmd->add_option("--repeat", c.repeat, "Timed repetitions of every measurement, after one warm-up; medians and quartiles are reported")
      ->type_name("R")
      ->default_str(std::to_string(c.repeat))
      ->check(whole_number(3, 100000))
      ->group("Measurement");
  cmd->add_option("--layer-batch", c.layer_batch, "Batch B of the dense layer")
      ->type_name("B")
      ->default_str(std::to_string(c.layer_batch))
      ->check(whole_number(1, 1 << 16))
      ->group("Dense layer");
  cmd->add_option("--layer-width", c.layer_width, "Width n of the dense layer (n inputs, n units)")
      ->type_name("N")
      ->default_str(std::to_string(c.layer_width))
      ->check(whole_number(1, 1 << 14))
      ->group("Dense layer");
  cmd->add_option("-j,--threads", c.threads, "Threads for the dense layer (the array pass uses one); 0 is every core")
      ->type_name("N")
      ->default_str(std::to_string(c.threads))
      ->check(whole_number(0, 4096))
      ->group("Dense layer");
  cmd->add_option("--leaky-slope", c.leaky_slope, "Slope of leaky_relu for x < 0")
      ->type_name("S")
      ->default_str("0.01")
      ->transform(real_number(-1e6, 1e6))
      ->group("Measurement");
  add_output_options(*cmd, o.format, {"table", "json"}, o.output, nullptr);
  cmd->footer(
      "Timings are wall-clock medians on this machine, with the interquartile range in brackets;\n"
      "run it on an idle machine. phi' is computed the way analyze needs it (accurate where it is\n"
      "tiny), which costs more than phi for the exp-based activations.\n\n"
      "Examples:\n"
      "  gradflow bench\n"
      "  gradflow bench -a relu,tanh,gelu --dtype f64 --repeat 30 --format json -o bench.json");
  return cmd;
}

namespace {

using ojson = nlohmann::ordered_json;

std::string share_pct(double share) { return fmt::format("{:.1f}%", 100.0 * share); }

}  // namespace

std::string bench_table(const ActivationBenchResult& r) {
  const ActivationBenchConfig& c = r.config;
  std::string out = fmt::format(
      "Activation cost: {}, {} elements, {} repetitions; median ns per element (interquartile range)\n\n",
      dtype_name(c.dtype), c.size, c.repeat);
  out += fmt::format("  {:<11} {:^31}   {:^31}\n", "", "phi", "phi and phi' (analyze's kernel)");
  out += fmt::format("  {:<11} {:>16} {:>8} {:>5}   {:>16} {:>8} {:>5}\n", "activation", "ns/elem",
                     "Gelem/s", "xrelu", "ns/elem", "Gelem/s", "xrelu");
  auto cell = [](const PassTiming& t) {
    return fmt::format("{:>16} {:>8.2f} {:>5.2f}",
                       fmt::format("{:.3f} ({:.3f})", t.ns_per_element.median, t.ns_per_element.iqr()),
                       t.g_elements_per_s, t.ratio_to_relu);
  };
  for (const ActivationTiming& a : r.arrays)
    out += fmt::format("  {:<11} {}   {}\n", a.activation, cell(a.forward), cell(a.forward_derivative));

  out += fmt::format(
      "\nOne dense layer: batch {}, {} -> {}, {} thread{} (analyze's forward block: GEMM, bias, phi "
      "and phi', statistics); median ms\n\n",
      c.layer_batch, c.layer_width, c.layer_width, c.threads, c.threads == 1 ? "" : "s");
  out += fmt::format("  {:<11} {:>16} {:>9} {:>9} {:>12} {:>12} {:>12}\n", "activation", "layer ms",
                     "GEMM ms", "GFLOP/s", "phi+phi' ms", "GEMM share", "phi share");
  double lo = 1, hi = 0, gemm_share = 0;
  for (const LayerTiming& l : r.layers) {
    out += fmt::format("  {:<11} {:>16} {:>9.3f} {:>9.1f} {:>12.3f} {:>12} {:>12}\n", l.activation,
                       fmt::format("{:.3f} ({:.3f})", l.layer_ms.median, l.layer_ms.iqr()),
                       l.gemm_ms.median, l.gemm_gflops, l.activation_ms.median, share_pct(l.gemm_share),
                       share_pct(l.activation_share));
    lo = std::min(lo, l.activation_share);
    hi = std::max(hi, l.activation_share);
    gemm_share += l.gemm_share / static_cast<double>(r.layers.size());
  }
  if (!r.layers.empty())
    out += fmt::format(
        "\nphi and phi' take {} to {} of a dense layer's time here; the matrix product takes {} on "
        "average.\nThe rest is the bias and the statistics analyze gathers. Each part is timed on its own, so on a\n"
        "busy machine a share can read past 100%.\n",
        share_pct(lo), share_pct(hi), share_pct(gemm_share));
  return out;
}

std::string bench_json(const ActivationBenchResult& r) {
  const ActivationBenchConfig& c = r.config;
  auto quartiles = [](const Quartiles& s) {
    return ojson{{"min", s.min}, {"q1", s.q1}, {"median", s.median}, {"q3", s.q3}, {"max", s.max}};
  };
  auto pass = [&](const PassTiming& t) {
    return ojson{{"ns_per_element", quartiles(t.ns_per_element)},
                 {"g_elements_per_s", t.g_elements_per_s},
                 {"ratio_to_relu", t.ratio_to_relu}};
  };
  ojson arrays = ojson::array(), layers = ojson::array();
  for (const ActivationTiming& a : r.arrays)
    arrays.push_back({{"activation", a.activation},
                      {"phi", pass(a.forward)},
                      {"phi_and_derivative", pass(a.forward_derivative)}});
  for (const LayerTiming& l : r.layers)
    layers.push_back({{"activation", l.activation},
                      {"layer_ms", quartiles(l.layer_ms)},
                      {"gemm_ms", quartiles(l.gemm_ms)},
                      {"activation_ms", quartiles(l.activation_ms)},
                      {"gemm_gflops", l.gemm_gflops},
                      {"gemm_share", l.gemm_share},
                      {"activation_share", l.activation_share}});
  ojson doc{{"schema_version", kSchemaVersion},
            {"tool", "gradflow"},
            {"version", GRADFLOW_VERSION},
            {"command", "bench"},
            {"context", context_json(c.dtype)},
            {"config",
             {{"activation", c.activations},
              {"dtype", dtype_name(c.dtype)},
              {"size", c.size},
              {"repeat", c.repeat},
              {"layer-batch", c.layer_batch},
              {"layer-width", c.layer_width},
              {"threads", c.threads},
              {"leaky-slope", c.leaky_slope}}},
            {"arrays", arrays},
            {"layers", layers}};
  return dump_json(doc, 2) + "\n";
}

int run_bench(const BenchOptions& o) {
  ReportSink sink(o.output);
  const ActivationBenchResult result = run_activation_bench(o.config);
  sink.write(o.format == "json" ? bench_json(result) : bench_table(result));
  return kExitOk;
}

}  // namespace gf
