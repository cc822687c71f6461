#include "cli/cmd_list.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/exit_status.h"
#include "base/json_io.h"
#include "base/output.h"
#include "config/validators.h"
#include "core/activation.h"
#include "core/init.h"

namespace gf {

CLI::App* setup_list(CLI::App& app, ListOptions& o) {
  CLI::App* cmd = app.add_subcommand("list", "Describe every activation and initialisation scheme");
  cmd->add_option("--format", o.format, "table or json")
      ->type_name("FORMAT")
      ->default_str("table")
      ->check(one_of({"table", "json"}));
  return cmd;
}

int run_list(const ListOptions& o) {
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
