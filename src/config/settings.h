#pragma once
// An AnalysisConfig from settings given as data (name = value pairs, or a recorded "config"
// object), read through analyze's own options (network_options.h): every value meets the same
// validator and the same message as on the command line. The batch layer builds its configs
// here: a sweep's grid points (batch/grid) and a baseline's recorded runs (batch/baseline).
#include "config/cli_fwd.h"
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "config/model_options.h"
#include "core/analysis.h"

namespace gf {

using Setting = std::pair<std::string, std::string>;  // a long option name and its text

class SettingsReader {
 public:
  // `read`: files read already (check_recorded_files), parsed from there instead of read again.
  explicit SettingsReader(ModelFiles read = {});
  // The files of the command, shared with its other readers (model_options.h's SharedFiles).
  explicit SettingsReader(std::shared_ptr<SharedFiles> files);
  ~SettingsReader();
  SettingsReader(const SettingsReader&) = delete;
  SettingsReader& operator=(const SettingsReader&) = delete;

  // Sets each named option from its text on top of the config so far: an option sets its own
  // fields and no other's, so applying only what changed gives the same config as applying
  // everything. Throws UsageError (the message names the option).
  void apply(const std::vector<Setting>& settings);
  // The same for a JSON object whose keys are option names (as --config FILE takes); messages
  // start with `source`.
  void apply_json(const nlohmann::json& config, const std::string& source);
  // Back to analyze's defaults.
  void reset();
  // The options as set, the model options (model_options.h) not yet applied.
  const AnalysisConfig& config() const { return c_; }
  // The config they describe: with --model, its network and --data's batch read (each file once
  // for all readers sharing the files) and depth, widths, ... set from them. Throws UsageError
  // naming the flag.
  AnalysisConfig resolved();

 private:
  AnalysisConfig c_;
  ModelOptions m_;
  std::shared_ptr<SharedFiles> files_;
  std::unique_ptr<CLI::App> app_;
};

// The config a JSON "config" object records (its keys are option names, as --config FILE
// takes), validated. Throws UsageError; messages start with `source`. `read`: as for
// SettingsReader.
AnalysisConfig config_from_json(const nlohmann::json& config, const std::string& source, ModelFiles read = {});
AnalysisConfig config_from_json(const nlohmann::json& config, const std::string& source,
                                std::shared_ptr<SharedFiles> files);

}  // namespace gf
