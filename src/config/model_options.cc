#include "config/model_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <optional>

#include "base/errors.h"
#include "base/fnv1a.h"
#include "base/json_io.h"
#include "config/replaced_options.h"
#include "config/validators.h"
#include "model/onnx_map.h"
#include "model/onnx_read.h"
#include "train/dataset_csv.h"

namespace gf {

namespace {

// A file's bytes into h, read in pieces (a model may be large); each piece also to `keep` when given.
void hash_file(Fnv1a64& h, const std::string& path, const char* flag, std::string* keep = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("{}: '{}' cannot be read: {}", flag, path, std::strerror(errno)));
  std::string buffer(std::size_t{1} << 16, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::string_view piece(buffer.data(), static_cast<std::size_t>(in.gcount()));
    h.add(piece);
    if (keep) keep->append(piece);
  }
  if (in.bad()) throw UsageError(fmt::format("{}: '{}' cannot be read: {}", flag, path, std::strerror(errno)));
}

// A model's content: its file's bytes (those the graph was parsed from), then those of each
// external data file it reads (those its weights were cut from), so that new weights in a data
// file beside it count as a changed model. Hashed as they were read (OnnxGraph::content_fnv1a64).
std::uint64_t model_hash(const OnnxGraph& graph) { return graph.content_fnv1a64; }

// The batch: the first `batch` rows of the CSV in file order. The labels are the model's class
// indices, so each must be a whole number 0 .. C-1 (the reader numbers the classes it sees).
// The batch's hash is of the bytes parsed (Dataset::bytes_fnv1a64): the file is read and parsed
// once (apply_model_options), and the parsed rows kept for every other batch size (a sweep's
// --batch 32,64).
std::pair<std::shared_ptr<GivenBatch>, std::uint64_t> cut_batch(const ModelOptions& m, const GivenNetwork& g,
                                                                Index& batch, const Dataset& d) {
  if (d.features != g.input_width)
    throw UsageError(fmt::format("--data {}: {} feature columns, but the model reads {} inputs", m.data, d.features,
                                 g.input_width));
  const Index classes = g.ops.back().width;
  std::vector<std::uint32_t> index_of;
  for (const std::string& name : d.class_names) {
    std::uint32_t k = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), k);
    if (ec != std::errc() || end != name.data() + name.size() || k >= static_cast<std::uint64_t>(classes))
      throw UsageError(fmt::format("--label-col: label '{}' in {} is not a class index; the model has {} outputs, so "
                                   "labels are 0 to {}",
                                   name, m.data, classes, classes - 1));
    index_of.push_back(k);
  }
  batch = std::min(batch, d.n_train());
  auto out = std::make_shared<GivenBatch>();
  out->x = d.x_train.topRows(batch);
  for (Index i = 0; i < batch; ++i) out->labels.push_back(index_of[d.y_train[static_cast<std::size_t>(i)]]);
  return {out, d.bytes_fnv1a64};
}

// Whether --bn-mode changes how g maps (onnx_map.h): only through a BatchNormalization.
bool has_batch_norm(const OnnxGraph& g) {
  return std::any_of(g.nodes.begin(), g.nodes.end(), [](const OnnxNode& n) { return n.op_type == "BatchNormalization"; });
}

// The mark of one file being read by one reader (SharedFiles::reading), with `lock` (held when
// made and when it ends) released around the read: others wait for it, and are woken when it ends,
// whether the read succeeded or threw.
class Reading {
 public:
  Reading(SharedFiles& files, std::unique_lock<std::mutex>& lock, SharedFiles::ReadKey key)
      : files_(files), lock_(lock), key_(std::move(key)) {
    files_.reading.insert(key_);
  }
  ~Reading() {
    if (!lock_.owns_lock()) lock_.lock();
    files_.reading.erase(key_);
    files_.done.notify_all();
  }
  Reading(const Reading&) = delete;
  Reading& operator=(const Reading&) = delete;

 private:
  SharedFiles& files_;
  std::unique_lock<std::mutex>& lock_;
  SharedFiles::ReadKey key_;
};

// The bytes of `path` in `files`, or null.
const std::string* known_text(const ModelFiles* files, const std::string& path) {
  if (!files) return nullptr;
  const auto it = files->texts.find(path);
  return it != files->texts.end() ? &it->second : nullptr;
}

}  // namespace

std::string shared_arch_text(SharedFiles& files, const std::string& path, const std::function<std::string()>& read) {
  std::unique_lock<std::mutex> lock(files.mutex);
  const SharedFiles::ReadKey key{SharedFiles::Kind::arch, path, ""};
  files.done.wait(lock, [&] { return !files.reading.count(key); });
  if (const auto known = files.files.texts.find(path); known != files.files.texts.end()) return known->second;
  const Reading reading(files, lock, key);
  lock.unlock();
  std::string text = read();  // a failed read keeps nothing: the next reader tries again
  lock.lock();
  return files.files.texts.insert_or_assign(path, std::move(text)).first->second;
}

void add_model_options(CLI::App& cmd, ModelOptions& m) {
  CLI::Option* model =
      cmd.add_option("--model", m.model,
                     "Your own network: an ONNX file of dense layers (Gemm or MatMul + Add, each with its "
                     "activation and optionally a LayerNorm or BatchNorm before it; residual blocks of them; the "
                     "last linear layer is the head, the loss comes after it). Replaces "
                     "-a, -d, -w, --leaky-slope, --input-dim, --classes, --residual, --norm and --arch; `gradflow list --model FILE` "
                     "shows the layers it maps")
          ->type_name("FILE.onnx")
          ->check(non_empty("an ONNX file"))
          ->group("Model");
  for (const std::string& flag : model_replaced_options())
    if (CLI::Option* other = cmd.get_option_no_throw("--" + flag)) model->excludes(other);
  cmd.add_option("--weights-from", m.weights_from,
                 "With --model: model (its own weights) or init (fresh weights drawn by --init and its "
                 "companions, keeping its architecture)")
      ->type_name("WHERE")
      ->default_str("model")
      ->check(one_of({"model", "init"}))
      ->group("Model");
  cmd.add_option("--data", m.data,
                 "With --model: a CSV batch (header, numeric features, a label column of class indices); the "
                 "first -b rows in file order (all when fewer). Without it, inputs are drawn by --input")
      ->type_name("FILE.csv")
      ->check(non_empty("a CSV file"))
      ->group("Model");
  cmd.add_option("--bn-mode", m.bn_mode,
                 "With --model: a BatchNormalization uses its running statistics (running: the model in "
                 "inference mode, a fixed affine map per unit) or the batch's (batch: as in training)")
      ->type_name("MODE")
      ->default_str("running")
      ->check(one_of({"running", "batch"}))
      ->group("Model");
  cmd.add_option("--label-col", m.label_col, "With --data: the label column, by header name or number (1 = first, -1 = last)")
      ->type_name("COL")
      ->default_str("-1")
      ->check(non_empty("a column's header name or number"))
      ->group("Model");
}

void apply_model_options(const ModelOptions& m, AnalysisConfig& c, SharedFiles* files) {
  if (m.model.empty()) {
    if (m.weights_from != "model") throw UsageError("--weights-from: give --model FILE.onnx (it says whose weights)");
    if (!m.data.empty()) throw UsageError("--data: give --model FILE.onnx; analyze's own networks draw their inputs");
    if (!m.label_col.empty()) throw UsageError("--label-col: give --data FILE.csv with --model FILE.onnx");
    if (m.bn_mode != "running") throw UsageError("--bn-mode: give --model FILE.onnx (it says how its BatchNorms run)");
    return;
  }
  if (!m.label_col.empty() && m.data.empty()) throw UsageError("--label-col: give --data FILE.csv");
  c.model_weights = m.weights_from == "model";
  if (c.model_weights) {
    const AnalysisConfig defaults;
    const char* drawn = c.init != defaults.init ? "--init"
                        : c.sigma_w2            ? "--sigma-w2"
                        : c.weight_std          ? "--weight-std"
                        : c.gain                ? "--gain"
                        : c.bias_init != 0      ? "--bias-init"
                        : c.sigma_b2            ? "--sigma-b2"
                        : c.weights == WeightsMode::regenerate ? "--weights regenerate"
                                                               : nullptr;
    if (drawn)
      throw UsageError(fmt::format("{} draws fresh weights, and --model uses the model's own: add --weights-from init, "
                                   "or drop {}",
                                   drawn, drawn));
  }
  SharedFiles local;
  SharedFiles& shared = files ? *files : local;
  ModelFiles& cache = shared.files;
  std::unique_lock<std::mutex> lock(shared.mutex);
  const std::pair<std::string, std::string> key{m.model, m.bn_mode};
  const SharedFiles::ReadKey model_key{SharedFiles::Kind::model, m.model, ""};  // one reader maps a file at a time, either mode
  shared.done.wait(lock, [&] { return !shared.reading.count(model_key); });
  if (!cache.models.count(key)) {
    const Reading reading(shared, lock, model_key);
    const BnMode bn = m.bn_mode == "batch" ? BnMode::batch : BnMode::running;
    const std::pair<std::string, std::string> other{m.model, m.bn_mode == "batch" ? "running" : "batch"};
    // Read, parsed and hashed already (a baseline's check): mapped from that graph, taken out
    // while it is mapped.
    std::optional<std::pair<OnnxGraph, std::uint64_t>> checked;
    if (const auto read = cache.graphs.find(m.model); read != cache.graphs.end()) {
      checked = std::move(read->second);
      cache.graphs.erase(read);
    }
    lock.unlock();
    std::pair<std::shared_ptr<const GivenNetwork>, std::uint64_t> model;
    bool bn_matters = true;
    try {
      if (checked) {
        model = {std::make_shared<GivenNetwork>(map_onnx(checked->first, m.model, bn)), checked->second};
        bn_matters = has_batch_norm(checked->first);
      } else {
        const OnnxGraph graph = read_onnx_file(m.model, c.max_memory);
        model = {std::make_shared<GivenNetwork>(map_onnx(graph, m.model, bn)), model_hash(graph)};
        bn_matters = has_batch_norm(graph);
      }
    } catch (...) {
      lock.lock();
      if (checked) cache.graphs.emplace(m.model, std::move(*checked));  // for the next resolve, as it was
      throw;
    }
    lock.lock();
    cache.models[key] = model;
    if (!bn_matters) cache.models[other] = model;  // the same network either way
    // A graph with a BatchNormalization kept until the other --bn-mode is mapped too (check's
    // current config may differ from the baseline's there), so the file is read once per command.
    else if (checked && !cache.models.count(other)) cache.graphs.emplace(m.model, std::move(*checked));
  }
  const auto [g, model_hash] = cache.models.at(key);
  if (!m.data.empty()) {
    if (c.input != AnalysisConfig{}.input)
      throw UsageError(fmt::format("--input {} draws the inputs, and --data {} gives them: drop one", input_name(c.input),
                                   m.data));
    const auto batch_key = std::tuple{m.data, m.label_col, c.batch, model_hash};
    const std::pair<std::string, std::string> data{m.data, m.label_col};
    const SharedFiles::ReadKey data_key{SharedFiles::Kind::data, m.data, m.label_col};
    shared.done.wait(lock, [&] { return !shared.reading.count(data_key); });
    if (!cache.batches.count(batch_key)) {
      std::shared_ptr<const Dataset> parsed = cache.datasets.count(data) ? cache.datasets.at(data) : nullptr;
      if (!parsed) {
        const Reading reading(shared, lock, data_key);
        CsvDataSpec spec;
        spec.path = m.data;
        spec.label_col = m.label_col;
        spec.file_order = true;
        // Read by a baseline's check: those bytes (a copy: `texts` is shared).
        const std::optional<std::string> text =
            cache.texts.count(m.data) ? std::optional<std::string>(cache.texts.at(m.data)) : std::nullopt;
        lock.unlock();
        // A file that cannot be read or parsed leaves no entry: the next resolve tries again.
        parsed = std::make_shared<const Dataset>(text ? parse_csv_dataset(*text, spec) : read_csv_dataset(spec));
        lock.lock();
        cache.datasets[data] = parsed;
      }
      Index rows = c.batch;
      cache.batches[batch_key] = cut_batch(m, *g, rows, *parsed);
    }
    const auto batch = cache.batches.at(batch_key);
    c.data = batch.first;
    c.batch = static_cast<Index>(batch.first->labels.size());
    c.data_path = m.data;
    c.data_fnv1a64 = batch.second;
    c.label_col = m.label_col;
  }
  c.bn_mode = m.bn_mode;
  c.model_fnv1a64 = model_hash;
  use_model(g, m.model, c);
}

ModelFiles check_recorded_files(const nlohmann::ordered_json& config, const std::string& where,
                                const ModelFiles* known) {
  ModelFiles read;
  for (const auto& [key, flag] :
       {std::pair{"model", "--model"}, std::pair{"data", "--data"}, std::pair{"arch", "--arch"}}) {
    const auto path = config.find(key), hash = config.find(std::string(key) + "-fnv1a64");
    if (path == config.end() || hash == config.end() || !path->is_string() || !hash->is_string()) continue;
    const std::string file = path->get<std::string>(), then = hash->get<std::string>();
    std::uint64_t h = 0;
    std::optional<OnnxGraph> graph;
    std::string text;
    try {
      if (key == std::string("model")) {
        // The memory budget the replay runs with: max-memory is never recorded, so the default.
        graph = read_onnx_file(file, AnalysisConfig{}.max_memory);
        h = model_hash(*graph);
      } else if (const std::string* had = known_text(known, file)) {
        text = *had;  // read already (the --arch of check's current config): these bytes are checked
        h = fnv1a64(text);
      } else {
        Fnv1a64 f;
        hash_file(f, file, flag, &text);
        h = f.h;
      }
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("{}: {}", where, e.what()));
    }
    const std::string now = fmt::format("{:016x}", h);
    if (now != then)
      throw UsageError(fmt::format("{}: {} '{}': its content changed since the baseline was saved (FNV-1a 64 {} "
                                   "then, {} now): restore the file, or save the baseline again",
                                   where, flag, file, then, now));
    if (graph) read.graphs.insert_or_assign(file, std::pair{std::move(*graph), h});
    // An --arch file past what --arch reads is left to the run, which refuses it as it always has.
    else if (key != std::string("arch") || text.size() <= kMaxInputFileBytes)
      read.texts.insert_or_assign(file, std::move(text));
  }
  return read;
}

void use_checked_files(ModelFiles read, ModelFiles& into) {
  // Named references to the bindings for the lambdas: clang 14 (the fuzz build) cannot capture a
  // structured binding.
  for (auto& [path, graph] : read.graphs) {
    const std::string& file = path;
    std::erase_if(into.models, [&file](const auto& m) { return m.first.first == file; });
    into.graphs.insert_or_assign(path, std::move(graph));
  }
  for (auto& [path, text] : read.texts) {
    const std::string& file = path;
    std::erase_if(into.datasets, [&file](const auto& d) { return d.first.first == file; });
    std::erase_if(into.batches, [&file](const auto& b) { return std::get<0>(b.first) == file; });
    into.texts.insert_or_assign(path, std::move(text));
  }
}

void check_theory_for_model(const AnalysisConfig& c) {
  if (c.model_weights)
    throw UsageError("--theory: mean-field theory predicts weights drawn i.i.d. by --init, not the model's own; add "
                     "--weights-from init to see its architecture at a fresh init beside the theory, or drop --theory");
  if (c.data)
    throw UsageError(fmt::format("--theory: the theory starts from inputs drawn by --input, and --data {} gives them; "
                                 "drop --data or --theory",
                                 c.data_path));
  const GivenNetwork& g = *c.model;
  const LayerOp& first = g.ops.front();
  for (std::size_t k = 0; k + 1 < g.ops.size(); ++k) {
    const LayerOp& op = g.ops[k];
    std::string why;
    if (op.kind != OpKind::dense) why = fmt::format("is a {} layer", op_kind_name(op.kind));
    else if (op.activation != first.activation || op.activation_param != first.activation_param)
      why = fmt::format("has {}, and layer '{}' {}", op.activation->name, g.names.front(), first.activation->name);
    if (!why.empty())
      throw UsageError(fmt::format("--theory: layer '{}' {}; with --model the theory covers a plain stack of dense "
                                   "layers of one activation (flags such as --residual, --norm and --arch give the "
                                   "networks `gradflow theory` covers beyond it); drop --theory",
                                   g.names[k], why));
  }
}

void use_model(std::shared_ptr<const GivenNetwork> g, std::string path, AnalysisConfig& c) {
  c.depth = static_cast<Index>(g->ops.size()) - 1;
  c.width.clear();
  for (Index l = 0; l < c.depth; ++l) c.width.push_back(g->ops[static_cast<std::size_t>(l)].width);
  c.input_dim = g->input_width;
  c.classes = g->ops.back().width;
  c.activations = {std::string(g->ops.front().activation->name)};
  if (g->ops.front().activation->name == "leaky_relu") c.leaky_slope = g->ops.front().activation_param;
  c.model = std::move(g);
  c.model_path = std::move(path);
}

}  // namespace gf
