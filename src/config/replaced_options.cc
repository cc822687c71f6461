#include "config/replaced_options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <regex>

#include "base/errors.h"

namespace gf {
namespace {

// --input-dim and --classes: an --arch file leaves them to the flags (its first layer reads
// --input-dim inputs, the head has --classes outputs); a model has its own. --dropout: a model
// runs with analyze's masks as a flag network does.
constexpr ReplacedOption kReplaced[] = {
    {"activation", true, "each layer's activation"},
    {"depth", true, "its own depth"},
    {"width", true, "each layer's width"},
    {"leaky-slope", true, "each LeakyRelu its own alpha"},
    {"input-dim", false, "its input width"},
    {"classes", false, "its head's outputs"},
    {"residual", true, "its residual blocks"},
    {"residual-scale", true, "each residual branch its own scale"},
    {"norm", true, "its own norms"},
    {"norm-position", true, "where each norm sits"},
    {"norm-eps", true, "each norm its own epsilon"},
    {"dropout", true, nullptr},
    {"arch", false, "the whole network"},
};

std::string bare(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') flag.remove_prefix(1);
  return std::string(flag);
}

}  // namespace

std::span<const ReplacedOption> replaced_options() { return kReplaced; }

std::vector<std::string> arch_replaced_options() {
  std::vector<std::string> out;
  for (const ReplacedOption& r : kReplaced)
    if (r.by_arch) out.emplace_back(r.name);
  return out;
}

std::vector<std::string> model_replaced_options() {
  std::vector<std::string> out;
  for (const ReplacedOption& r : kReplaced)
    if (r.by_model) out.emplace_back(r.name);
  return out;
}

bool replaced_by_arch(std::string_view name) {
  for (const ReplacedOption& r : kReplaced)
    if (name == r.name) return r.by_arch;
  return false;
}

bool replaced_by_model(std::string_view name) {
  for (const ReplacedOption& r : kReplaced)
    if (name == r.name) return r.by_model != nullptr;
  return false;
}

std::string model_replaces_message(std::string_view flag) {
  const std::string name = bare(flag);
  for (const ReplacedOption& r : kReplaced)
    if (name == r.name && r.by_model)
      return fmt::format("--{}: --model gives {}; drop --{}", name, r.by_model, name);
  return fmt::format("--{} excludes --model", name);
}

std::string arch_replaces_message(const std::string& path, const std::vector<std::string>& given_flags) {
  return fmt::format("--arch {} gives the whole network, and {} {} part of it too: drop {}, or say it in the file",
                     path, fmt::join(given_flags, ", "), given_flags.size() == 1 ? "sets" : "set",
                     given_flags.size() == 1 ? "it" : "them");
}

std::string excludes_message(const std::string& cli11_text) {
  static const std::regex excludes(R"(^(\S+) excludes (\S+)$)");
  std::smatch m;
  if (!std::regex_match(cli11_text, m, excludes)) return cli11_text;
  const std::string a = bare(m[1].str()), b = bare(m[2].str());
  if (b == "model" && replaced_by_model(a)) return model_replaces_message(a);
  if (a == "model" && replaced_by_model(b)) return model_replaces_message(b);
  return cli11_text;
}

void refuse_replaced_options(const CLI::App& command, const std::string& source) {
  auto given = [&](const std::string& name) {
    const CLI::Option* o = command.get_option_no_throw("--" + name);
    return o != nullptr && o->count() > 0;
  };
  if (given("model"))
    for (const ReplacedOption& r : kReplaced)
      if (r.by_model && given(r.name)) throw UsageError(fmt::format("{}: {}", source, model_replaces_message(r.name)));
  if (given("arch")) {
    std::vector<std::string> flags;
    for (const ReplacedOption& r : kReplaced)
      if (r.by_arch && given(r.name)) flags.push_back(std::string("--") + r.name);
    if (!flags.empty()) {
      const CLI::Option* arch = command.get_option_no_throw("--arch");
      throw UsageError(fmt::format("{}: {}", source, arch_replaces_message(arch->results().back(), flags)));
    }
  }
}

}  // namespace gf
