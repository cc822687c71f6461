#include "cli/cmd_list.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/exit_status.h"
#include "base/json_io.h"
#include "base/output.h"
#include "base/utf8.h"
#include "config/validators.h"
#include "core/activation.h"
#include "core/given_network.h"
#include "core/init.h"
#include "model/onnx_map.h"
#include "model/onnx_read.h"

namespace gf {

CLI::App* setup_list(CLI::App& app, ListOptions& o) {
  CLI::App* cmd = app.add_subcommand("list", "Describe every activation and initialisation scheme");
  cmd->add_option("--format", o.format, "table or json")
      ->type_name("FORMAT")
      ->default_str("table")
      ->check(one_of({"table", "json"}));
  cmd->add_option("--model", o.model,
                  "List the layers gradflow maps from this ONNX file (analyze --model), or the node it cannot map")
      ->type_name("FILE.onnx");
  return cmd;
}

namespace {

int list_model(const ListOptions& o) {
  const GivenNetwork g = map_onnx(read_onnx_file(o.model), o.model);
  if (o.format == "json") {
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < g.ops.size(); ++k) {
      const LayerOp& op = g.ops[k];
      layers.push_back({{"layer", k + 1},
                        {"name", g.names[k]},
                        {"kind", op_kind_name(op.kind)},
                        {"inputs", g.W[k].cols()},
                        {"width", op.width},
                        {"activation", op.activation ? std::string(op.activation->name) : "loss"},
                        {"norm", given_norm_text(op)},
                        {"block", op.block}});
      if (op.kind == OpKind::skip_add) layers.back()["scale"] = op.alpha;  // s + scale F(s)
    }
    write_stdout(dump_json(nlohmann::ordered_json{{"model", o.model}, {"input_width", g.input_width}, {"layers", layers}}, 2) + "\n");
    return kExitOk;
  }
  // The file's names with their control characters escaped: they cannot move the cursor.
  std::string out = fmt::format("{}: {} inputs, {} hidden layers and the head\n", printable_line(o.model),
                                g.input_width, g.ops.size() - 1);
  std::vector<std::string> names;
  std::size_t name_width = 24;
  for (const std::string& n : g.names) name_width = std::max(name_width, names.emplace_back(printable_line(n)).size());
  const std::string row = fmt::format("  {{:>5}}  {{:<{}}} {{:<18}} {{:>7}} {{:>7}}  {{:<12}} {{:>5}} {{:>6}}  {{}}\n", name_width);
  out += fmt::format(fmt::runtime(row), "layer", "name", "kind", "inputs", "width", "activation", "block", "scale", "norm");
  for (std::size_t k = 0; k < g.ops.size(); ++k) {
    const LayerOp& op = g.ops[k];
    out += fmt::format(fmt::runtime(row), k + 1, names[k], op_kind_name(op.kind), g.W[k].cols(), op.width,
                       op.activation ? std::string(op.activation->name) : "(the loss)",
                       op.block ? std::to_string(op.block) : "-",
                       op.kind == OpKind::skip_add ? fmt::format("{:g}", op.alpha) : "-", given_norm_text(op));
  }
  write_stdout(out);
  return kExitOk;
}

}  // namespace

int run_list(const ListOptions& o) {
  if (!o.model.empty()) return list_model(o);
  if (o.format == "json") {
    nlohmann::ordered_json acts = nlohmann::ordered_json::array(), inits = nlohmann::ordered_json::array();
    for (const Activation& a : activations())
      acts.push_back({{"name", a.name},
                      {"formula", a.formula},
                      {"max_slope", a.max_slope(0.01)},
                      {"dead_zone", a.has_dead_zone(0.01)},
                      {"auto_init", a.auto_init},
                      {"description", a.description}});
    for (const InitScheme& s : init_schemes())
      inits.push_back({{"name", s.name}, {"variance", s.variance}, {"description", s.description}});
    inits.push_back({{"name", kFixup}, {"variance", "per layer"}, {"description", kFixupHelp}});
    write_stdout(dump_json(nlohmann::ordered_json{{"activations", acts}, {"inits", inits}}, 2) + "\n");
    return kExitOk;
  }
  std::string out = "Activations\n";
  out += fmt::format("  {:<11} {:<32} {:>9}  {:<9}  {:<13}  {}\n", "name", "phi(x)", "max slope",
                     "dead zone", "--init auto", "description");
  for (const Activation& a : activations())
    out += fmt::format("  {:<11} {:<32} {:>9.4g}  {:<9}  {:<13}  {}\n", a.name, a.formula,
                       a.max_slope(0.01), a.has_dead_zone(0.01) ? "yes" : "no", a.auto_init,
                       a.description);
  out += "\nInitialisation schemes (W ~ N(0, Var), or uniform/orthogonal with that variance)\n";
  out += fmt::format("  {:<15} {:<22} {}\n", "name", "Var(W_ij)", "description");
  for (const InitScheme& s : init_schemes())
    out += fmt::format("  {:<15} {:<22} {}\n", s.name, s.variance, s.description);
  out += fmt::format("  {:<15} {:<22} {}\n", kFixup, "per layer", kFixupHelp);
  out += "\n  --sigma-w2 S     Var S/fan_in (mean-field convention); --weight-std S: Var S^2\n";
  write_stdout(out);
  return kExitOk;
}

}  // namespace gf
