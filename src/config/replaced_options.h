#pragma once
// The flags a network file replaces. --arch FILE.json and --model FILE.onnx each say a whole
// network, so beside one of them the flags that would build a network are refused (exit 2,
// naming both and what the file gives instead), and a recorded document of such a run is
// replayed from the file, not from the flags recorded beside it (batch/baseline, cli/cmd_check).
// One table for both files: a flag the file makes meaningless is added here, once.
#include "config/cli_fwd.h"
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gf {

struct ReplacedOption {
  const char* name;      // the long option name, without its dashes
  bool by_arch;          // --arch FILE says it
  const char* by_model;  // what --model's file gives instead ("each layer's width"); nullptr: not replaced
};

std::span<const ReplacedOption> replaced_options();

// The names (without --) each file replaces.
std::vector<std::string> arch_replaced_options();
std::vector<std::string> model_replaced_options();
bool replaced_by_arch(std::string_view name);
bool replaced_by_model(std::string_view name);

// "--leaky-slope: --model gives each LeakyRelu its own alpha; drop --leaky-slope". `flag` with
// or without its dashes.
std::string model_replaces_message(std::string_view flag);

// "--arch FILE gives the whole network, and --depth sets part of it too: drop it, or say it in the file"
std::string arch_replaces_message(const std::string& path, const std::vector<std::string>& given_flags);

// CLI11's words for two options given together ("--depth excludes --model"), for a flag --model
// replaces, as model_replaces_message says them; any other text unchanged.
std::string excludes_message(const std::string& cli11_text);

// After a --config file is applied (its values bypass the command line's checks): throws
// UsageError, prefixed by `source`, when --arch or --model was given, by the file or the
// command line, together with a flag it replaces.
void refuse_replaced_options(const CLI::App& command, const std::string& source);

}  // namespace gf
