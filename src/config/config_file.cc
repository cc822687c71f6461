#include "config/config_file.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "base/file_list.h"
#include "base/json_io.h"
#include "base/suggest.h"
#include "config/replaced_options.h"
#include "config/validators.h"
#include "train/dataset_builtin.h"

namespace gf {
namespace {

// A value as the command line would give it. An array is a list: its elements joined by
// commas (validators.h's rule), an inner array in brackets ([[64,32,16]] is one per-layer
// width list in a sweep).
std::string value_text(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();  // integers stay integers, reals round-trip
  if (v.is_array()) {
    std::string out;
    bool first = true;
    for (const auto& item : v) {
      const std::string text = value_text(item, source, key);
      out += (first ? "" : ",") + (item.is_array() ? "[" + text + "]" : text);
      first = false;
    }
    return out;
  }
  throw UsageError(fmt::format("{}: key '{}' takes a value or a list, not {}", source, key,
                               v.is_object() ? "an object" : "null inside a list"));
}

std::vector<std::string> configurable_keys(const CLI::App& command) {
  std::vector<std::string> keys{"description"};
  for (const CLI::Option* opt : command.get_options())
    if (opt->get_configurable() && !opt->get_lnames().empty()) keys.push_back(opt->get_lnames().front());
  return keys;
}

// CLI11 puts the option's name before a validator's message.
std::string with_flag(const CLI::Option& opt, const std::string& message) {
  return fmt::format("{}: {}", opt.get_name(), message);
}

// Runs the option's validators on a value without storing it: a config value that a flag
// overrides is checked all the same, so a broken file fails whatever flags come with it.
void check_only(CLI::Option& opt, std::string text) {
  for (int k = 0;; ++k) {
    CLI::Validator* v = nullptr;
    try {
      v = opt.get_validator(k);
    } catch (const CLI::OptionNotFound&) {
      return;  // no more validators
    }
    if (const std::string error = (*v)(text); !error.empty()) throw CLI::ValidationError(with_flag(opt, error));
  }
}

// The options whose value names a file the run reads.
constexpr const char* kInputFileKeys[] = {"model", "data", "arch", "baseline"};

// A relative file name from a --config file, as seen from the directory the command runs in: the
// config's directory before it. Absolute names, and train's built-in datasets ("spirals"), stay.
std::string from_config_dir(const std::string& name, const std::filesystem::path& dir) {
  if (name.empty() || find_builtin_data(name) || std::filesystem::path(name).is_absolute()) return name;
  return (dir / name).string();
}

// doc with each relative file name it gives taken from `dir`. Where the command's option takes a
// list of files (a grid's axis of --data files), a text is read by file_list.h's rule as seen
// from `dir` ("a.csv,b.csv"; "my,model.onnx" when that file is there), and an array's elements
// are one file each; either becomes one text of the files as seen from the working directory,
// each comma of a name written twice, for the option to read by the same rule.
nlohmann::json with_paths_from(nlohmann::json doc, const std::filesystem::path& dir, const CLI::App& command) {
  if (!doc.is_object()) return doc;
  for (const char* key : kInputFileKeys) {
    const auto it = doc.find(key);
    const CLI::Option* opt = command.get_option_no_throw(std::string("--") + key);
    if (it == doc.end() || !opt) continue;
    const bool file_list = opt->get_type_name().ends_with(kFileListType);
    if (!file_list) {
      if (dir.empty()) continue;
      auto resolve = [&](nlohmann::json& v) {
        if (v.is_string()) v = from_config_dir(v.get<std::string>(), dir);
      };
      if (it->is_array())
        for (nlohmann::json& item : *it) resolve(item);
      else
        resolve(*it);
      continue;
    }
    std::vector<std::string> files;
    if (it->is_string()) {
      files = split_file_list(std::string("--") + key, it->get<std::string>(), dir);
    } else if (it->is_array() && std::all_of(it->begin(), it->end(), [](const auto& v) { return v.is_string(); })) {
      for (const auto& v : *it) files.push_back(v.get<std::string>());
    } else {
      continue;  // not a name: the option refuses it
    }
    for (std::string& f : files) f = from_config_dir(f, dir);
    *it = join_file_list(files);
  }
  return doc;
}

}  // namespace

void apply_config_file(CLI::App& command, const std::string& path) {
  const std::string text = read_input_file(path, "--config");
  const nlohmann::json doc = parse_json_strict(text, "--config " + path);
  nlohmann::json resolved;
  try {
    resolved = with_paths_from(doc, std::filesystem::path(path).parent_path(), command);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("--config {}: {}", path, e.what()));
  }
  apply_config_json(command, resolved, "--config " + path);
}

void apply_config_json(CLI::App& command, const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object())
    throw UsageError(fmt::format("{}: expected a JSON object of option names and values", source));

  for (const auto& [key, value] : doc.items()) {
    if (key == "description") continue;
    CLI::Option* opt = key.empty() ? nullptr : command.get_option_no_throw("--" + key);
    if (!opt || !opt->get_configurable() || key == "config")
      throw UsageError(fmt::format("{}: unknown key '{}'{}", source, key,
                                   did_you_mean(key, configurable_keys(command))));
    if (value.is_null()) continue;  // null: unset

    // A repeatable option (--rule) takes an array's elements one by one; any other option takes
    // one value, and an array is its list.
    std::vector<std::string> results;
    if (value.is_array() && opt->get_expected_max() > 1) {
      for (const auto& item : value)
        results.push_back(item.is_object() || item.is_array() ? item.dump() : value_text(item, source, key));
    } else {
      results.push_back(value_text(value, source, key));
    }
    try {
      if (opt->count() > 0) {  // the command line wins, but the value must still be valid
        for (const std::string& r : results) check_only(*opt, r);
        continue;
      }
      for (const std::string& r : results) opt->add_result(r);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw UsageError(fmt::format("{}: {}", source, e.what()));
    }
  }
  // The file's values bypass the command line's exclusions: --model or --arch (from the file or
  // the flags) beside a flag it replaces is refused here, as it is on the command line.
  refuse_replaced_options(command, source);
}

}  // namespace gf
