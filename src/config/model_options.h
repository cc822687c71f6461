#pragma once
// `--model FILE.onnx` and its companions: the user's own network, read by model/, replacing the
// flags that would build one. Read here once for every command that runs networks: analyze adds
// them to its own options, and the settings reader (settings.h) holds them too, so that check's
// and sweep's grids (a list of --data files, of --init schemes), --config files and a baseline's
// recorded config all take them with the same checks and messages. `list --model` shows the layers.
#include "config/cli_fwd.h"
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <tuple>

#include "core/analysis.h"
#include "model/onnx_graph.h"
#include "train/dataset.h"

namespace gf {

struct ModelOptions {
  std::string model;                  // FILE.onnx; "" for the flags' network
  std::string weights_from = "model";  // model: the file's weights; init: fresh ones (--init ...)
  std::string data;                   // FILE.csv: the batch, its first -b rows in file order
  std::string label_col;              // "" = the last column
  std::string bn_mode = "running";    // BatchNormalization: running (inference) or batch statistics
};

// --model, --weights-from, --data, --label-col, --bn-mode. --model excludes the flags that build a network
// (they must already be on `cmd`).
void add_model_options(CLI::App& cmd, ModelOptions& m);

// What a model and a data file gave when read: kept by a settings reader that resolves many
// configs of the same files (a grid), so each file is read and hashed once.
//
// `graphs` and `texts` hold files read before the reader needs them (check_recorded_files: a
// baseline's files, read to check their hashes): the reader parses these bytes instead of
// reading the file again, so a replay reads each file once and runs on the very bytes it checked.
struct ModelFiles {
  std::map<std::string, std::pair<OnnxGraph, std::uint64_t>> graphs;  // --model path -> graph, model hash
                                                                      // (taken out when mapped)
  std::map<std::string, std::string> texts;                           // --data or --arch path -> its bytes
  std::map<std::pair<std::string, std::string>, std::pair<std::shared_ptr<const GivenNetwork>, std::uint64_t>>
      models;  // (path, bn-mode) -> network, FNV-1a 64 of its bytes
  std::map<std::tuple<std::string, std::string, Index, std::uint64_t>, std::pair<std::shared_ptr<const GivenBatch>, std::uint64_t>>
      batches;  // (path, label-col, batch, model hash) -> batch, FNV-1a 64 of its bytes
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Dataset>>
      datasets;  // (--data path, label-col) -> the CSV parsed, every row in file order: each batch size cut from it
};

// The files of one command, shared by all its settings readers (a grid's: the one that checks
// each flag as it is read, and one per thread that resolves runs; a baseline's replay and check's
// current config): each file is read once per command, by whichever reader needs it first, and
// every run of the command uses those bytes. `mutex` guards `files` and `reading`, and is not
// held while a model or a CSV is read and parsed: the reader that reads one marks its key in
// `reading`, a reader that needs the same one waits for `done`, and readers of other files go on
// (a sweep's threads resolve runs of different files at once).
struct SharedFiles {
  // What a reader is reading now: a model (its path), a CSV (path, label column) or an --arch
  // file (its path).
  enum class Kind { model, data, arch };
  using ReadKey = std::tuple<Kind, std::string, std::string>;
  std::mutex mutex;
  ModelFiles files;
  std::set<ReadKey> reading;
  std::condition_variable done;  // a read ended (its result in `files`, or nothing if it failed)
};

// The bytes of an --arch file, from `files` or read by `read` (outside the mutex, marked in
// `reading`) and kept there: each --arch file is read once per command, by the first reader
// that needs it, while readers of other files go on.
std::string shared_arch_text(SharedFiles& files, const std::string& path, const std::function<std::string()>& read);

// The model (and the data) into c: its ops and weights, and depth, widths, input width, classes
// and activation set from it, so that reports describe what ran; the files' paths and content
// hashes recorded. Throws UsageError naming the flag.
// `files`: the command's files (each read once); the reader takes its mutex itself.
void apply_model_options(const ModelOptions& m, AnalysisConfig& c, SharedFiles* files = nullptr);

// A recorded config block (an analyze document's) that names a model, data or --arch file with its
// content hash: throws UsageError, prefixed by `where`, when the file's bytes now hash to
// something else (or it cannot be read). Returns what it read (the model parsed, at the default
// --max-memory a replay runs with), for the settings reader that resolves the config
// (config_from_json), so each file is read once.
// `known`: files read already (their bytes, in `texts`): hashed from there, not read again.
ModelFiles check_recorded_files(const nlohmann::ordered_json& config, const std::string& where,
                                const ModelFiles* known = nullptr);

// What check_recorded_files read into `into`: each file's bytes (or graph) as checked replace
// whatever `into` held of that file (its network, its parsed rows, its batches), so that every
// config resolved from `into` afterwards runs on the bytes checked.
void use_checked_files(ModelFiles read, ModelFiles& into);

// analyze --theory with --model: mean-field theory predicts i.i.d. weights drawn by a scheme, over
// inputs drawn by --input, through a stack of one activation; so it applies to a model that is such a
// stack, at --weights-from init, without --data. Throws UsageError saying which condition fails.
void check_theory_for_model(const AnalysisConfig& c);

// g as c's network (its own weights unless c.model_weights is false), with depth, widths, input
// width, classes and the activation (its first layer's) set from it.
void use_model(std::shared_ptr<const GivenNetwork> g, std::string path, AnalysisConfig& c);

}  // namespace gf
