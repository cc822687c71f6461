// The one table of the flags --arch and --model replace (config/replaced_options): every name in
// it is a real option of analyze, --model excludes exactly its own, and CLI11's words for an
// exclusion become the table's.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include "config/model_options.h"
#include "config/network_options.h"
#include "config/replaced_options.h"

using namespace gf;

TEST_CASE("replaced_options: every name is an option, and --model excludes exactly those it replaces") {
  CLI::App app;
  AnalysisConfig c;
  ModelOptions m;
  add_network_options(app, c);
  add_model_options(app, m);
  const CLI::Option* model = app.get_option("--model");
  std::size_t excluded = 0;
  for (const ReplacedOption& r : replaced_options()) {
    CAPTURE(r.name);
    const CLI::Option* o = app.get_option_no_throw(std::string("--") + r.name);
    REQUIRE(o != nullptr);
    CHECK(o->get_excludes().count(const_cast<CLI::Option*>(model)) == (r.by_model ? 1u : 0u));
    excluded += r.by_model != nullptr;
    CHECK((r.by_arch || r.by_model));
  }
  CHECK(model->get_excludes().size() == excluded);
  CHECK(replaced_by_model("leaky-slope"));
  CHECK(replaced_by_arch("leaky-slope"));
  CHECK(!replaced_by_model("dropout"));
  CHECK(!replaced_by_arch("input-dim"));
}

TEST_CASE("excludes_message: --model's exclusions say what the model gives; others unchanged") {
  CHECK(excludes_message("--leaky-slope excludes --model") ==
        "--leaky-slope: --model gives each LeakyRelu its own alpha; drop --leaky-slope");
  CHECK(excludes_message("--model excludes --width") == "--width: --model gives each layer's width; drop --width");
  CHECK(excludes_message("--dropout excludes --model") == "--dropout excludes --model");  // not one it replaces
  CHECK(excludes_message("--a excludes --b") == "--a excludes --b");
  CHECK(excludes_message("something else") == "something else");
}
