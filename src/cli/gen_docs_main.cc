// gradflow-gen-docs OUTDIR: writes gradflow's man page and its bash, zsh and fish completions
// under OUTDIR in the layout of share/ (man/man1, bash-completion/completions,
// zsh/vendor-completions, fish/vendor_completions.d), from the same App that makes --help.
// Run by the build; not installed.
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/output.h"
#include "cli/cli.h"
#include "cli/cli_docs.h"
#include "version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gradflow-gen-docs OUTDIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  auto cli = gf::make_cli();
  CLI::App& app = *cli->app;
  const std::pair<std::string, std::string> files[] = {
      {"man/man1/gradflow.1", gf::man_page(app, GRADFLOW_VERSION)},
      {"bash-completion/completions/gradflow", gf::bash_completion(app)},
      {"zsh/vendor-completions/_gradflow", gf::zsh_completion(app)},
      {"fish/vendor_completions.d/gradflow.fish", gf::fish_completion(app)},
  };
  try {
    for (const auto& [path, text] : files) {
      std::filesystem::create_directories((out / path).parent_path());
      gf::ReportSink((out / path).string(), "OUTDIR").write(text);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gradflow-gen-docs: %s\n", e.what());
    return 1;
  }
  return 0;
}
