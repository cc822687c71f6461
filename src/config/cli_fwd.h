#pragma once
// The CLI11 classes that headers only name. <CLI/CLI.hpp> costs about 5 s of compiler time in
// every file that includes it at -O3 (CLI11 2.1 builds its namespace-scope validators in each),
// so only the .cc files that define or read options include it.
namespace CLI {
class App;
class Validator;
}  // namespace CLI
