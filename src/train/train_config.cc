#include "train/train_config.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <limits>
#include <sys/stat.h>

#include "base/errors.h"
#include "base/parallel.h"
#include "base/suggest.h"
#include "train/dataset_builtin.h"
#include "train/dataset_csv.h"

namespace gf {

bool TrainConfig::was_given(std::string_view name) const {
  return std::find(given.begin(), given.end(), name) != given.end();
}

std::vector<double> TrainConfig::learning_rates() const { return lrs.empty() ? std::vector<double>{optimizer.lr} : lrs; }

std::string TrainConfig::speedup_reference() const {
  if (!speedup_vs.empty()) return speedup_vs;
  const auto& acts = net.activations;
  return std::find(acts.begin(), acts.end(), "tanh") != acts.end() ? "tanh" : acts.front();
}

Index TrainConfig::resolved_log_every() const {
  if (log_every > 0) return log_every;
  return std::max<Index>(1, (steps + 49) / 50);
}

FeatureScaling TrainConfig::scaling() const {
  switch (net.input) {
    case InputKind::uniform: return FeatureScaling::symmetric;
    case InputKind::positive: return FeatureScaling::positive;
    case InputKind::normal: break;
  }
  return data.standardize ? FeatureScaling::standardize : FeatureScaling::none;
}

namespace {

// Features must be finite after scaling and within the dtype's range: an input that overflows is
// the data's fault, said at load time with the column, not a divergence at step 1 blamed on --lr.
void check_feature_range(const Dataset& d, const TrainConfig& c) {
  const bool f32 = c.net.dtype == Dtype::f32;
  const double limit = f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  const bool builtin = find_builtin_data(c.data.data) != nullptr;
  for (Index j = 0; j < d.features; ++j) {
    bool finite = true;
    double largest = 0;
    for (const Mat<double>* x : {&d.x_train, &d.x_test}) {
      if (x->rows() == 0) continue;
      finite = finite && x->col(j).allFinite();
      if (finite) largest = std::max(largest, x->col(j).cwiseAbs().maxCoeff());
    }
    if (finite && largest <= limit) continue;
    const std::string column = j < static_cast<Index>(d.feature_names.size())
                                   ? fmt::format("column '{}'", d.feature_names[static_cast<std::size_t>(j)])
                                   : fmt::format("feature {}", j + 1);
    const std::string source = builtin && c.data.noise ? fmt::format("--data {} with --noise {:g}", c.data.data, *c.data.noise)
                                                       : fmt::format("--data {}", c.data.data);
    if (!finite)
      throw UsageError(fmt::format("{}: {} overflows when its features are rescaled (--standardize or --input); "
                                   "rescale it before training",
                                   source, column));
    throw UsageError(fmt::format("{}: {} holds values up to {:.3g} in size, beyond {}'s largest number ({:.3g}); {}",
                                 source, column, largest, f32 ? "f32" : "f64", limit,
                                 builtin && c.data.noise ? "lower --noise" + std::string(f32 ? ", or train with --dtype f64" : "")
                                 : std::string("rescale the column (--standardize)") + (f32 ? ", or train with --dtype f64" : "")));
  }
}

}  // namespace

Dataset load_dataset(const TrainConfig& c) {
  const DataConfig& dc = c.data;
  Dataset d;
  if (find_builtin_data(dc.data)) {
    for (const char* flag : {"label-col", "test-frac"})
      if (c.was_given(flag))
        throw UsageError(fmt::format("--{} applies to CSV files; the built-in {} dataset is split by --n-train "
                                     "and --n-test",
                                     flag, dc.data));
    BuiltinDataSpec s;
    s.name = dc.data;
    s.classes = c.net.classes;
    s.n_train = dc.n_train;
    s.n_test = dc.n_test;
    s.input_dim = c.net.input_dim;
    s.noise = dc.noise;
    s.teacher_depth = dc.teacher_depth;
    s.seed = dc.seed;
    if (c.was_given("teacher-depth") && s.name != "teacher")
      throw UsageError(fmt::format("--teacher-depth applies to --data teacher, not {}", s.name));
    d = make_builtin_dataset(s);
    const std::vector<Index> counts = class_counts(d.y_train, d.classes);
    if (std::count(counts.begin(), counts.end(), 0) > 0 && d.name == "teacher")
      throw UsageError(fmt::format("--data teacher: with --data-seed {} the teacher never picks some of the {} "
                                   "classes in {} training samples; try another --data-seed or fewer --classes",
                                   dc.seed, d.classes, d.n_train()));
  } else {
    struct stat st {};
    const bool exists = ::stat(dc.data.c_str(), &st) == 0;
    if (!exists && dc.data.find('/') == std::string::npos && dc.data.find('.') == std::string::npos) {
      std::vector<std::string> names;
      for (const BuiltinData& b : builtin_datasets()) names.emplace_back(b.name);
      throw UsageError(fmt::format("--data: '{}' is not a built-in dataset{} ({}) nor a file", dc.data,
                                   did_you_mean(dc.data, names), join(names)));
    }
    for (const char* flag : {"n-train", "n-test", "noise", "teacher-depth"})
      if (c.was_given(flag))
        throw UsageError(fmt::format("--{} applies to built-in datasets; {} is split by --test-frac", flag, dc.data));
    d = read_csv_dataset({dc.data, dc.label_col, dc.test_frac, dc.seed});
    if (c.was_given("classes") && c.net.classes != d.classes)
      throw UsageError(fmt::format("--classes {}: {} has {} classes in its label column; leave --classes unset",
                                   c.net.classes, dc.data, d.classes));
    if (c.was_given("input-dim") && c.net.input_dim != d.features)
      throw UsageError(fmt::format("--input-dim {}: {} has {} feature columns; leave --input-dim unset",
                                   c.net.input_dim, dc.data, d.features));
  }
  scale_features(d, c.scaling());
  check_feature_range(d, c);
  return d;
}

void validate(const TrainConfig& c, const Dataset& d) {
  // Weight decay alone multiplies every weight by (1 - lr wd) a step (sgd); with momentum mu the
  // decay's own dynamics are stable only for lr wd < 2 (1 + mu). Beyond, training diverges
  // whatever the data, and the fault is the pair of flags, found before any work. (Adam
  // normalises the decayed gradient, so its steps stay about lr.)
  const OptimizerConfig& o = c.optimizer;
  const double decay = o.lr * o.weight_decay;
  const double stable = o.kind == OptimizerKind::sgd ? 2 : o.kind == OptimizerKind::momentum ? 2 * (1 + o.momentum) : std::numeric_limits<double>::infinity();
  if (decay >= stable)
    throw UsageError(fmt::format("--weight-decay {:g} with --lr {:g}: lr x weight-decay is {:.3g}, and from {:g} on "
                                 "(--optimizer {}) the decay alone makes the weights grow without bound, whatever "
                                 "the data; lower --weight-decay or --lr",
                                 o.weight_decay, o.lr, decay, stable, optimizer_name(o.kind)));
  const auto& acts = c.net.activations;
  if (!c.speedup_vs.empty() && std::find(acts.begin(), acts.end(), c.speedup_vs) == acts.end())
    throw UsageError(fmt::format("--speedup-vs: '{}' is not one of the activations trained ({}){}", c.speedup_vs,
                                 join(acts), did_you_mean(c.speedup_vs, acts)));
  std::vector<double> rates = c.lrs;
  std::sort(rates.begin(), rates.end());
  if (std::adjacent_find(rates.begin(), rates.end()) != rates.end())
    throw UsageError("--lr: a learning rate appears twice; each runs once");
  if (c.net.loss == LossKind::random)
    throw UsageError("--loss random backpropagates a fixed direction and cannot be trained; give xent or mse");
  if (c.data.standardize && c.net.input != InputKind::normal)
    throw UsageError(fmt::format("--standardize and --input {} both rescale the features: give one",
                                 input_name(c.net.input)));
  AnalysisConfig net = c.net;
  net.input_dim = d.features;
  net.classes = d.classes;
  net.max_memory = ~std::uint64_t{0};  // training's own estimate is checked below
  validate(net);
  if (c.net.batch > d.n_train())
    throw UsageError(fmt::format("--batch {} is larger than the training set ({} samples); lower --batch{}",
                                 c.net.batch, d.n_train(),
                                 find_builtin_data(c.data.data) ? " or raise --n-train" : ""));
  const std::uint64_t bytes = estimate_train_bytes(c, d);
  const std::size_t runs = c.seeds.size() * c.net.activations.size();
  const std::uint64_t at_once = bytes * std::min<std::uint64_t>(runs, static_cast<std::uint64_t>(c.net.thread_count()));
  if (at_once > c.net.max_memory)
    throw UsageError(fmt::format("training needs about {} ({} per run, {} at once), and --max-memory is {}; "
                                 "lower --width, --depth, --batch or --eval-batch, or --threads",
                                 format_bytes(at_once), format_bytes(bytes),
                                 std::min<std::uint64_t>(runs, static_cast<std::uint64_t>(c.net.thread_count())),
                                 format_bytes(c.net.max_memory)));
}

NetworkSpec train_network_spec(const TrainConfig& c, const Dataset& d, const Activation& act, std::uint64_t seed) {
  AnalysisConfig net = c.net;
  net.input_dim = d.features;
  net.classes = d.classes;
  net.seed = seed;
  NetworkSpec s = network_spec(net, act);
  s.threads = 1;
  return s;
}

std::uint64_t estimate_train_bytes(const TrainConfig& c, const Dataset& d) {
  // The engine's own figures (network.h): parameter stores (the parameters, their gradients and
  // the optimiser's moments) and the workspaces of a training batch, the evaluation batch and a
  // chunk of the test set. Sizes do not depend on the activation.
  NetworkSpec s = train_network_spec(c, d, *find_activation(c.net.activations.front()), 0);
  const std::uint64_t copies = c.optimizer.kind == OptimizerKind::adam ? 4 : c.optimizer.kind == OptimizerKind::momentum ? 3 : 2;
  const Index eval = std::min(c.eval_batch, d.n_train());
  return copies * params_bytes(s, c.net.dtype, false) + workspace_bytes(s, c.net.dtype, c.net.batch, 0) +
         2 * workspace_bytes(s, c.net.dtype, eval, 0);
}

}  // namespace gf
