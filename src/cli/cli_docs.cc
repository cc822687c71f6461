#include "cli/cli_docs.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/exit_status.h"
#include "base/suggest.h"
#include "config/validators.h"

namespace gf {

namespace {

// What the writers need of one option, read once from CLI11.
struct OptionDoc {
  std::vector<std::string> shorts, longs;  // without dashes
  std::string value;                       // "NAME", "FILE", ... ("" for a flag)
  std::string help, default_value, group;
  std::vector<std::string> choices;
  bool files = false;  // completes to file names
};

struct CommandDoc {
  std::string name, help, footer;
  std::vector<OptionDoc> options;
  std::vector<std::string> positionals;  // "FILE..." etc.
};

std::vector<std::string> choices_of(const CLI::Option& o) {
  auto& opt = const_cast<CLI::Option&>(o);  // get_validator(int) is not const in CLI11 2.1
  for (int i = 0;; ++i) {
    const CLI::Validator* v = nullptr;
    try {
      v = opt.get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      return {};
    }
    const std::string& name = v->get_name();
    if (name.rfind(kChoicesTag, 0) != 0) continue;
    std::vector<std::string> out;
    std::string_view rest = std::string_view(name).substr(kChoicesTag.size());
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      out.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return out;
  }
}

// CLI11's type name is "NAME" or "NAME:{a,b}" (a validator's description appended).
std::string value_name(const CLI::Option& o) {
  const std::string t = o.get_type_name();
  return t.substr(0, t.find(':'));
}

OptionDoc option_doc(const CLI::Option& o) {
  OptionDoc d;
  d.shorts = o.get_snames();
  d.longs = o.get_lnames();
  if (o.get_items_expected_max() > 0) {  // not a flag
    d.value = value_name(o);
    if (d.value.empty()) d.value = "VALUE";
  }
  d.help = o.get_description();
  d.default_value = o.get_default_str();
  d.group = o.get_group();
  d.choices = choices_of(o);
  d.files = d.value == "FILE" || d.value == "DIR" || d.value == "PATH";
  return d;
}

CommandDoc command_doc(const CLI::App& app) {
  CommandDoc c;
  c.name = app.get_name();
  c.help = app.get_description();
  c.footer = app.get_footer();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (o->get_positional() && o->get_lnames().empty() && o->get_snames().empty()) {
      c.positionals.push_back(value_name(*o) + (o->get_items_expected_max() > 1 ? "..." : ""));
      continue;
    }
    c.options.push_back(option_doc(*o));
  }
  return c;
}

std::vector<CommandDoc> commands_of(const CLI::App& app) {
  std::vector<CommandDoc> out;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_group().empty()) out.push_back(command_doc(*sub));
  return out;
}

std::vector<std::string> names_of(const std::vector<CommandDoc>& commands) {
  std::vector<std::string> names;
  for (const CommandDoc& c : commands) names.push_back(c.name);
  return names;
}

// First sentence, for one-line descriptions in completion menus.
std::string first_sentence(const std::string& text) {
  std::string s = text.substr(0, text.find('\n'));
  const std::size_t stop = s.find(". ");
  if (stop != std::string::npos) s = s.substr(0, stop);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::vector<std::string> spellings(const OptionDoc& o) {
  std::vector<std::string> out;
  for (const std::string& s : o.shorts) out.push_back("-" + s);
  for (const std::string& l : o.longs) out.push_back("--" + l);
  return out;
}

// ---- man page (man(7) macros) ----

std::string roff_escape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char ch : text) {
    if (line_start && (ch == '.' || ch == '\'')) out += "\\&";
    if (ch == '\\') out += "\\e";
    else if (ch == '-') out += "\\-";
    else out += ch;
    line_start = ch == '\n';
  }
  return out;
}

std::string man_option(const OptionDoc& o) {
  std::vector<std::string> names;
  for (const std::string& s : spellings(o)) names.push_back("\\fB" + roff_escape(s) + "\\fR");
  std::string out = ".TP\n" + join(names, ", ");
  if (!o.value.empty()) out += " \\fI" + roff_escape(o.value) + "\\fR";
  out += "\n" + roff_escape(o.help);
  if (!o.choices.empty()) out += "\nOne of: " + roff_escape(join(o.choices, ", ")) + ".";
  if (!o.default_value.empty()) out += "\nDefault: " + roff_escape(o.default_value) + ".";
  return out + "\n";
}

std::string man_options(const std::vector<OptionDoc>& options) {
  std::vector<std::string> groups;
  for (const OptionDoc& o : options)
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end()) groups.push_back(o.group);
  std::string out;
  for (const std::string& g : groups) {
    out += ".SS " + roff_escape(g) + "\n";
    for (const OptionDoc& o : options)
      if (o.group == g) out += man_option(o);
  }
  return out;
}

std::string man_preformatted(const std::string& text) {
  return text.empty() ? "" : ".PP\n.nf\n" + roff_escape(text) + "\n.fi\n";
}

// ---- shell words ----

std::string single_quoted(std::string_view s) {  // for bash, zsh and fish alike
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace

std::vector<std::string> option_choices(const CLI::App& command, std::string_view long_name) {
  for (const CLI::Option* o : command.get_options())
    for (const std::string& l : o->get_lnames())
      if (l == long_name) return choices_of(*o);
  return {};
}

std::string man_page(CLI::App& app, std::string_view version) {
  const CommandDoc top = command_doc(app);
  const std::vector<CommandDoc> commands = commands_of(app);
  const std::string name = app.get_name();
  std::string out = fmt::format(".TH GRADFLOW 1 \"\" \"{} {}\" \"User Commands\"\n", name, roff_escape(version));
  out += ".\\\" Generated from the command-line definitions by gradflow-gen-docs; do not edit.\n";
  const std::string summary = top.help.substr(top.help.find(": ") == std::string::npos ? 0 : top.help.find(": ") + 2);
  out += ".SH NAME\n" + name + " \\- " + roff_escape(summary) + "\n";
  out += ".SH SYNOPSIS\n";
  out += fmt::format(".B {}\n[\\fICOMMAND\\fR] [\\fIOPTIONS\\fR]\n", name);
  out += ".SH DESCRIPTION\n" + roff_escape(top.help) + "\n" + man_preformatted(top.footer);
  out += ".SH COMMANDS\n";
  for (const CommandDoc& c : commands) out += ".TP\n.B " + c.name + "\n" + roff_escape(first_sentence(c.help)) + ".\n";
  out += ".SH OPTIONS\n" + man_options(top.options);
  for (const CommandDoc& c : commands) {
    std::string upper = name + " " + c.name;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out += ".SH \"" + upper + "\"\n";
    out += fmt::format(".B {} {}\n[\\fIOPTIONS\\fR]", name, c.name);
    for (const std::string& p : c.positionals) out += " \\fI" + roff_escape(p) + "\\fR";
    out += "\n.PP\n" + roff_escape(c.help) + "\n";
    out += man_options(c.options);
    out += man_preformatted(c.footer);
  }
  out += ".SH EXIT STATUS\n";
  for (const auto& [code, meaning] : {std::pair{kExitOk, "finished; the report is on stdout or in the file"},
                                      {kExitFailure, "an analysis ran but a check on it failed"},
                                      {kExitUsage, "bad flag, value, config file or output path: nothing was written"},
                                      {kExitInterrupted, "interrupted (SIGINT, SIGTERM): stopped cleanly"}})
    out += fmt::format(".TP\n.B {}\n{}\n", static_cast<int>(code), roff_escape(meaning));
  out += ".SH SEE ALSO\nThe README and docs/ of the gradflow source, installed in share/doc/gradflow.\n";
  return out;
}

std::string bash_completion(CLI::App& app) {
  const CommandDoc top = command_doc(app);
  const std::vector<CommandDoc> commands = commands_of(app);
  const std::vector<std::string> names = names_of(commands);

  // For each command: the words after `prev` when prev takes a value, then all its options.
  auto body = [](const CommandDoc& c, const std::string& more_words) {
    std::string out = "      case \"$prev\" in\n";
    std::vector<std::string> words;
    for (const OptionDoc& o : c.options) {
      const std::vector<std::string> sp = spellings(o);
      for (const std::string& s : sp) words.push_back(s);
      if (o.value.empty()) continue;
      out += "        " + join(sp, "|") + ") ";
      if (!o.choices.empty()) out += "COMPREPLY=($(compgen -W " + single_quoted(join(o.choices, " ")) + " -- \"$cur\"))";
      else if (o.files) out += "COMPREPLY=($(compgen -f -- \"$cur\"))";
      else out += "COMPREPLY=()";
      out += "; return ;;\n";
    }
    out += "      esac\n";
    std::string all = join(words, " ");
    if (!more_words.empty()) all += " " + more_words;
    out += "      COMPREPLY=($(compgen -W " + single_quoted(all) + " -- \"$cur\"))\n";
    return out;
  };

  std::string out =
      "# bash completion for gradflow, generated from its command-line definitions by\n"
      "# gradflow-gen-docs; do not edit.\n"
      "_gradflow() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" command=\"\" i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case \"${COMP_WORDS[i]}\" in\n"
      "      " + join(names, "|") + ") command=\"${COMP_WORDS[i]}\"; break ;;\n"
      "    esac\n"
      "  done\n"
      "  case \"$command\" in\n";
  for (const CommandDoc& c : commands) out += "    " + c.name + ")\n" + body(c, "") + "      ;;\n";
  out += "    *)\n" + body(top, join(names, " ")) + "      ;;\n";
  out +=
      "  esac\n"
      "}\n"
      "complete -o default -F _gradflow gradflow\n";
  return out;
}

std::string zsh_completion(CLI::App& app) {
  const CommandDoc top = command_doc(app);
  const std::vector<CommandDoc> commands = commands_of(app);

  auto escape_brackets = [](std::string s) {
    std::string out;
    for (char ch : s) {
      if (ch == '[' || ch == ']' || ch == ':' || ch == '\\') out += '\\';
      out += ch;
    }
    return out;
  };
  auto specs = [&](const CommandDoc& c) {
    std::string out;
    for (const OptionDoc& o : c.options) {
      // '(-a --activation)'{-a,--activation}'[help]:NAME:(choices)': brace expansion gives
      // one spec per spelling, each excluding the others.
      const std::vector<std::string> sp = spellings(o);
      std::string head, spec;
      if (sp.size() > 1) head = "'(" + join(sp, " ") + ")'{" + join(sp, ",") + "}";
      else spec = sp.front();
      spec += "[" + escape_brackets(first_sentence(o.help)) + "]";
      if (!o.value.empty()) {
        spec += ":" + escape_brackets(o.value) + ":";
        if (!o.choices.empty()) spec += "(" + join(o.choices, " ") + ")";
        else if (o.files) spec += "_files";
      }
      out += "    " + head + single_quoted(spec) + " \\\n";
    }
    return out;
  };

  std::string out =
      "#compdef gradflow\n"
      "# zsh completion for gradflow, generated from its command-line definitions by\n"
      "# gradflow-gen-docs; do not edit.\n"
      "_gradflow() {\n"
      "  local context state state_descr line ret=1\n"
      "  typeset -A opt_args\n"
      "  local -a commands\n"
      "  commands=(\n";
  for (const CommandDoc& c : commands)
    out += "    " + single_quoted(c.name + ":" + escape_brackets(first_sentence(c.help))) + "\n";
  out += "  )\n  _arguments -C \\\n" + specs(top) +
         "    '1: :->command' \\\n"
         "    '*:: :->args' && ret=0\n"
         "  case $state in\n"
         "    command) _describe -t commands 'gradflow command' commands && ret=0 ;;\n"
         "    args)\n"
         "      case $words[1] in\n";
  for (const CommandDoc& c : commands) {
    out += "        " + c.name + ")\n          _arguments \\\n" + specs(c);
    out += c.positionals.empty() ? "" : std::string("    '*:file:_files' \\\n");
    out += "            && ret=0 ;;\n";
  }
  out +=
      "      esac ;;\n"
      "  esac\n"
      "  return ret\n"
      "}\n"
      "_gradflow \"$@\"\n";
  return out;
}

std::string fish_completion(CLI::App& app) {
  const CommandDoc top = command_doc(app);
  const std::vector<CommandDoc> commands = commands_of(app);
  const std::vector<std::string> names = names_of(commands);

  std::string out =
      "# fish completion for gradflow, generated from its command-line definitions by\n"
      "# gradflow-gen-docs; do not edit.\n"
      "complete -c gradflow -f\n";
  auto option_lines = [&](const CommandDoc& c, const std::string& condition) {
    std::string lines;
    for (const OptionDoc& o : c.options) {
      std::string line = "complete -c gradflow -n " + single_quoted(condition);
      for (const std::string& s : o.shorts) line += " -s " + s;
      for (const std::string& l : o.longs) line += " -l " + l;
      line += " -d " + single_quoted(first_sentence(o.help));
      if (!o.value.empty()) {
        line += " -r";
        if (!o.choices.empty()) line += " -f -a " + single_quoted(join(o.choices, " "));
        else if (o.files) line += " -F";
      }
      lines += line + "\n";
    }
    return lines;
  };
  out += option_lines(top, "__fish_use_subcommand");
  for (const CommandDoc& c : commands)
    out += "complete -c gradflow -n __fish_use_subcommand -a " + c.name + " -d " +
           single_quoted(first_sentence(c.help)) + "\n";
  for (const CommandDoc& c : commands) {
    out += option_lines(c, "__fish_seen_subcommand_from " + c.name);
    if (!c.positionals.empty())
      out += "complete -c gradflow -n " + single_quoted("__fish_seen_subcommand_from " + c.name) + " -F\n";
  }
  return out;
}

}  // namespace gf
