#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <new>
#include <regex>

#include "base/build_info.h"
#include "base/errors.h"
#include "base/exit_status.h"
#include "base/interrupt.h"
#include "base/output.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "config/config_file.h"
#include "config/replaced_options.h"

namespace gf {

Cli::Cli() : app(std::make_unique<CLI::App>("gradflow: see how gradients flow through deep networks", "gradflow")) {}
Cli::~Cli() = default;

std::unique_ptr<Cli> make_cli() {
  auto cli = std::make_unique<Cli>();
  CLI::App& app = *cli->app;
  app.set_version_flag("--version", version_text(),
                       "Print the version and exit; with --format json, also the git sha, build type, "
                       "compiler, SIMD and GEMM library (for bug reports)");
  app.require_subcommand(0, 1);
  app.get_formatter()->column_width(30);
  app.footer(
      "Running gradflow with no command runs `gradflow analyze` on its defaults: sigmoid, tanh and\n"
      "relu, 20 layers of 256 units, a batch of 256.\n"
      "Exit codes: 0 ok, 1 an analysis or check failed, 2 usage or input error, 130 interrupted\n"
      "(70: a bug in gradflow, to be reported).\n"
      "Run `gradflow COMMAND --help` for a command's options.");
  cli->commands.push_back({setup_analyze(app, cli->analyze), [c = cli.get()] { return run_analyze(c->analyze); }});
  cli->commands.push_back({setup_sweep(app, cli->sweep), [c = cli.get()] { return run_sweep(c->sweep); }});
  cli->commands.push_back({setup_summarize(app, cli->summarize), [c = cli.get()] { return run_summarize(c->summarize); }});
  cli->commands.push_back({setup_merge(app, cli->merge), [c = cli.get()] { return run_merge(c->merge); }});
  cli->commands.push_back({setup_check(app, cli->check), [c = cli.get()] { return run_check(c->check); }});
  cli->commands.push_back({setup_train(app, cli->train), [c = cli.get()] { return run_train(c->train); }});
  cli->commands.push_back({setup_theory(app, cli->theory), [c = cli.get()] { return run_theory(c->theory); }});
  cli->commands.push_back({setup_bench(app, cli->bench), [c = cli.get()] { return run_bench(c->bench); }});
  cli->commands.push_back({setup_list(app, cli->list), [c = cli.get()] { return run_list(c->list); }});
  return cli;
}

namespace {

// One line, whatever the message quotes: the file names and values in a UsageError's message
// (printable there, errors.h, but with their newlines and tabs) and in CLI11's (a validator's
// "'a<newline>b' is not ..."): a name cannot start a line of its own ("gradflow: error: ...").
void print_error(std::string_view message) {
  std::fflush(stdout);
  const std::string line = "gradflow: error: " + printable_line(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::vector<std::string> command_names(const Cli& cli) {
  std::vector<std::string> names;
  for (const Command& c : cli.commands) names.push_back(c.app->get_name());
  return names;
}

const CLI::App* parsed_command(const Cli& cli) {
  for (const Command& c : cli.commands)
    if (c.app->parsed()) return c.app;
  return nullptr;
}

// The long options of a command as typed: "--depth", ... (one-letter ones are all one edit
// apart, so they would make noise, not suggestions).
std::vector<std::string> long_option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

bool looks_like_option(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1])) && arg[1] != '.';
}

// What CLI11 could not place ("The following arguments were not expected: 5 --dpeth"), said
// the way a user needs it: the first unknown option, the nearest real one, and where the
// real ones are listed.
std::string extras_message(const std::vector<std::string>& extras, const Cli& cli) {
  const auto option = std::find_if(extras.begin(), extras.end(), looks_like_option);
  const std::string flag = option == extras.end() ? "" : option->substr(0, option->find('='));
  if (const CLI::App* cmd = parsed_command(cli)) {
    const std::string name = cmd->get_name();
    const std::string help = fmt::format("; run 'gradflow {} --help' for its options", name);
    if (flag.empty()) return fmt::format("unexpected argument '{}' for {}{}", extras.front(), name, help);
    const std::string hint = flag.rfind("--", 0) == 0 ? did_you_mean(flag, long_option_names(*cmd)) : "";
    return fmt::format("{} has no option '{}'{}{}", name, flag, hint, help);
  }
  const std::vector<std::string> commands = command_names(cli);
  const std::string help = "; run 'gradflow --help' for the commands (" + join(commands) + ")";
  if (flag.empty())
    return fmt::format("unknown command '{}'{}{}", extras.front(), did_you_mean(extras.front(), commands), help);
  return fmt::format("unknown option '{}'{}", flag, help);
}

// CLI11's counts ("--depth: 1 required L missing", "--format: At Most 1 required but received
// 2") in plain words.
std::string count_message(const std::string& what) {
  static const std::regex missing(R"(^(\S+): (\d+) required (.+) missing$)");
  static const std::regex too_many(R"(^(\S+): At Most (\d+) required but received (\d+)$)");
  static const std::regex too_few(R"(^(\S+): At least (\d+) required but received (\d+)$)");
  std::smatch m;
  if (std::regex_match(what, m, missing))
    return m[2] == "1" ? fmt::format("{} needs a value ({})", m[1].str(), m[3].str())
                       : fmt::format("{} needs {} values ({})", m[1].str(), m[2].str(), m[3].str());
  if (std::regex_match(what, m, too_many))
    return m[2] == "1" ? fmt::format("{} was given {} times; give it once", m[1].str(), m[3].str())
                       : fmt::format("{} takes at most {} values, not {}", m[1].str(), m[2].str(), m[3].str());
  if (std::regex_match(what, m, too_few))
    return fmt::format("{} needs at least {} values, not {}", m[1].str(), m[2].str(), m[3].str());
  return what;
}

// `gradflow --version [--format text|json]`: CLI11 stops parsing at --version, so the format is
// read from the arguments here.
int print_version(int argc, const char* const* argv) {
  std::string format = "text";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--format" && i + 1 < argc) format = argv[i + 1];
    else if (a.starts_with("--format=")) format = std::string(a.substr(9));
  }
  if (format == "json") {
    std::printf("%s\n", version_json().dump(2).c_str());
  } else if (format == "text" || format == "table") {
    std::printf("%s\n", version_text().c_str());
  } else {
    print_error(fmt::format("--format: unknown value '{}' for --version; allowed: text, json", format));
    return kExitUsage;
  }
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

std::string parse_error_message(const CLI::ParseError& e, const Cli& cli) {
  const bool extras = dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
  if (extras)
    if (const std::vector<std::string> unplaced = cli.app->remaining(true); !unplaced.empty())
      return extras_message(unplaced, cli);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) return count_message(e.what());
  std::string msg = e.what();
  if (dynamic_cast<const CLI::ExcludesError*>(&e))
    if (std::string replaced = excludes_message(msg); replaced != msg) return replaced;  // says what to drop
  if (extras || dynamic_cast<const CLI::ExcludesError*>(&e) || dynamic_cast<const CLI::RequiresError*>(&e))
    msg += "; run 'gradflow --help' for the commands (" + join(command_names(cli)) + ")";
  return msg;
}

}  // namespace

int run_cli(Cli& cli, int argc, const char* const* argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as EPIPE, and we end quietly
  std::signal(SIGXFSZ, SIG_IGN);  // a file size limit shows up as EFBIG: a clear error, whole lines kept
  install_interrupt_handlers();
  try {
    try {
      cli.app->parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return cli.app->exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return cli.app->exit(e);
    } catch (const CLI::CallForVersion&) {
      return print_version(argc, argv);
    } catch (const CLI::ParseError& e) {
      print_error(parse_error_message(e, cli));
      return kExitUsage;
    }
    for (const Command& c : cli.commands) {
      if (!c.app->parsed()) continue;
      if (const CLI::Option* config = c.app->get_option_no_throw("--config"); config && config->count() > 0)
        apply_config_file(*c.app, config->as<std::string>());
      return c.run();
    }
    return cli.commands.front().run();
  } catch (const UsageError& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const BrokenPipe&) {
    return kExitOk;
  } catch (const Interrupted&) {
    print_error("interrupted");
    return kExitInterrupted;
  } catch (const std::bad_alloc&) {
    print_error("out of memory: this job needs more than the machine gives it (a smaller network, grid or "
                "dataset needs less; --max-memory bounds a network's own estimate)");
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(fmt::format("internal error (a bug in gradflow, not in your input; please report it with "
                            "the command line): {}",
                            e.what()));
    return kExitInternal;
  }
}

}  // namespace gf
