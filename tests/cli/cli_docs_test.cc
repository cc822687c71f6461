// The man page and the completions are written from the App (cli_docs.h): their choices are the
// tables' own, and the man page is well-formed roff. tests/install/install_test.sh renders the
// installed page with man and queries the installed completions in bash and fish.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <regex>
#include <sstream>

#include "cli/cli.h"
#include "cli/cli_docs.h"
#include "core/activation.h"
#include "core/init.h"

using namespace gf;

namespace {

std::vector<std::string> activation_table_names() {
  std::vector<std::string> names;
  for (const Activation& a : activations()) names.emplace_back(a.name);
  return names;
}

}  // namespace

TEST_CASE("choices of enumerated options come from the tables") {
  auto cli = make_cli();
  const CLI::App& analyze = *cli->app->get_subcommand("analyze");
  CHECK(option_choices(analyze, "activation") == activation_table_names());
  CHECK(option_choices(analyze, "format") == std::vector<std::string>{"table", "json", "csv"});
  CHECK(option_choices(analyze, "dtype") == std::vector<std::string>{"f32", "f64"});
  CHECK(option_choices(analyze, "init") == init_names(true));  // with fixup: residual nets
  CHECK(option_choices(*cli->app->get_subcommand("theory"), "init") == init_names(true));
  CHECK(option_choices(analyze, "depth").empty());  // a number: any value in range
  CHECK(option_choices(*cli->app->get_subcommand("theory"), "activation") == activation_table_names());
}

TEST_CASE("man page: every line that starts with a dot or quote is one of our macros") {
  auto cli = make_cli();
  const std::string page = man_page(*cli->app, "0.0.0");
  std::istringstream in(page);
  const std::regex macro(R"(^(\.TH |\.SH |\.SS |\.TP$|\.B |\.PP$|\.nf$|\.fi$|\.\\").*)");
  int lines = 0, sections = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    if (line.empty() || (line[0] != '.' && line[0] != '\'')) continue;
    INFO(line);
    CHECK(std::regex_match(line, macro));
    if (line.rfind(".SH \"GRADFLOW ", 0) == 0) ++sections;
  }
  CHECK(lines > 300);
  CHECK(sections == static_cast<int>(cli->commands.size()));
}

TEST_CASE("completions name every command and every activation") {
  auto cli = make_cli();
  const std::string bash = bash_completion(*cli->app), zsh = zsh_completion(*cli->app),
                    fish = fish_completion(*cli->app);
  for (const Command& c : cli->commands) {
    const std::string name = c.app->get_name();
    CHECK(bash.find(name + ")") != std::string::npos);
    CHECK(zsh.find("'" + name + ":") != std::string::npos);
    CHECK(fish.find("-a " + name + " ") != std::string::npos);
  }
  std::string words;
  for (const std::string& n : activation_table_names()) words += (words.empty() ? "" : " ") + n;
  CHECK(bash.find("compgen -W '" + words + "'") != std::string::npos);
  CHECK(zsh.find("(" + words + ")") != std::string::npos);
  CHECK(fish.find("-a '" + words + "'") != std::string::npos);
}
