#include "config/settings.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "base/errors.h"
#include "config/config_file.h"
#include "config/network_options.h"
#include "config/replaced_options.h"

namespace gf {

SettingsReader::SettingsReader(ModelFiles read) : SettingsReader(std::make_shared<SharedFiles>()) {
  files_->files = std::move(read);
}

SettingsReader::SettingsReader(std::shared_ptr<SharedFiles> files)
    : files_(files ? std::move(files) : std::make_shared<SharedFiles>()),
      app_(std::make_unique<CLI::App>("settings", "gradflow")) {
  add_network_options(*app_, c_, files_.get());
  add_model_options(*app_, m_);
}

SettingsReader::~SettingsReader() = default;

void SettingsReader::apply(const std::vector<Setting>& settings) {
  std::vector<std::string> argv;
  // --name=value, so that values starting with '-' are never taken for flags.
  for (const auto& [name, value] : settings) argv.push_back("--" + name + "=" + value);
  std::reverse(argv.begin(), argv.end());  // CLI11 takes the arguments reversed
  try {
    app_->parse(argv);
  } catch (const CLI::ParseError& e) {
    throw UsageError(excludes_message(e.what()));
  }
}

void SettingsReader::reset() {
  c_ = AnalysisConfig{};
  m_ = ModelOptions{};
}

AnalysisConfig SettingsReader::resolved() {
  AnalysisConfig c = c_;
  apply_model_options(m_, c, files_.get());  // it takes the files' mutex, not while it reads one
  return c;
}

void SettingsReader::apply_json(const nlohmann::json& config, const std::string& source) {
  try {
    app_->parse(std::vector<std::string>{});
    apply_config_json(*app_, config, source);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
}

AnalysisConfig config_from_json(const nlohmann::json& config, const std::string& source, ModelFiles read) {
  auto files = std::make_shared<SharedFiles>();
  files->files = std::move(read);
  return config_from_json(config, source, std::move(files));
}

AnalysisConfig config_from_json(const nlohmann::json& config, const std::string& source,
                                std::shared_ptr<SharedFiles> files) {
  SettingsReader reader(std::move(files));
  reader.apply_json(config, source);
  AnalysisConfig c = reader.resolved();
  validate(c);
  return c;
}

}  // namespace gf
