#include "config_file.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "errors.h"
#include "suggest.h"

namespace gf {
namespace {

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();  // numbers: integers stay integers, reals round-trip
}

std::vector<std::string> configurable_keys(const CLI::App& command) {
  std::vector<std::string> keys{"description"};
  for (const CLI::Option* opt : command.get_options())
    if (opt->get_configurable() && !opt->get_lnames().empty()) keys.push_back(opt->get_lnames().front());
  return keys;
}

}  // namespace

void apply_config_file(CLI::App& command, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("--config: cannot read '{}': {}", path, std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (const auto p = what.find("] "); p != what.npos) what = what.substr(p + 2);
    throw UsageError(fmt::format("--config {}: malformed JSON: {}", path, what));
  }
  apply_config_json(command, doc, "--config " + path);
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
    if (opt->count() > 0 || value.is_null()) continue;  // the command line wins; null = unset

    std::vector<std::string> results;
    if (value.is_array()) {
      for (const auto& item : value) results.push_back(scalar_text(item));
    } else if (value.is_object()) {
      throw UsageError(fmt::format("{}: key '{}' takes a value or a list, not an object", source, key));
    } else {
      results.push_back(scalar_text(value));
    }
    try {
      for (const std::string& r : results) opt->add_result(r);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw UsageError(fmt::format("{}: {}", source, e.what()));
    }
  }
}

}  // namespace gf
