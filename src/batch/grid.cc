#include "batch/grid.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <mutex>
#include <set>

#include "base/errors.h"
#include "base/file_list.h"
#include "base/suggest.h"
#include "config/model_options.h"
#include "config/network_options.h"
#include "config/settings.h"
#include "core/summary.h"

namespace gf {
namespace {

// Options whose ranges are numeric. A new numeric network option adds its name here to get
// ranges; any other option takes lists of names.
const std::set<std::string> kIntegerAxes = {"depth", "width", "input-dim", "batch", "classes", "seed",
                                            "jacobian-samples", "jacobian-probes", "residual"};
// The threshold flags (summary.h) are real axes too.
const std::set<std::string> kRealAxes = {"leaky-slope", "sigma-w2", "weight-std", "bias-init", "sigma-b2",
                                         "sat-eps",     "gain",     "saturated-when", "norm-eps", "dropout"};
// Options that never change a result (so are not part of a run's config or run_id): one value.
const std::set<std::string> kSingleValued = {"weights", "max-memory"};
// Options whose one value may be a list, written in brackets in a sweep ([64,32,16]): a plain
// comma list is an axis.
const std::set<std::string> kBracketLists = {"width", "jacobian-depths"};
// Options whose values are files: a list of files, never a range or a per-layer list, and a
// value naming an existing file is that file, commas and all (base/file_list.h).
const std::set<std::string> kFileAxes = {"model", "data", "arch"};
// --threads is the sweep's own option: how many threads each run uses.
const std::set<std::string> kNotMirrored = {"help", "threads"};

AxisKind kind_of(const std::string& name) {
  if (kIntegerAxes.count(name)) return AxisKind::integer;
  if (kRealAxes.count(name)) return AxisKind::real;
  if (kFileAxes.count(name)) return AxisKind::file;
  for (const ThresholdFlag& f : threshold_flags())
    if (name == f.name) return AxisKind::real;
  return AxisKind::text;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

}  // namespace

// Grid points as configs, through analyze's own options (config/settings.h).
struct PointParser {
  explicit PointParser(std::shared_ptr<SharedFiles> files) : reader(std::move(files)) {}

  SettingsReader reader;
  std::vector<std::string> last;  // the values of the previous resolve(), one per axis

  void check(const std::string& name, const std::string& value) {
    reader.reset();
    last.clear();
    reader.apply({{name, value}});
  }

  // The config of one grid point. Only the axes whose value changed since the previous point
  // are applied again (settings.h), so walking a grid in order costs about one parse per run.
  AnalysisConfig resolve(const std::vector<Axis>& axes, const std::vector<std::string>& values) {
    std::vector<Setting> changed;
    if (last.size() != values.size()) {
      reader.reset();
      last.assign(values.size(), std::string(1, '\0'));  // never a value
    }
    for (std::size_t k = 0; k < values.size(); ++k)
      if (values[k] != last[k]) changed.emplace_back(axes[k].name, values[k]);
    last.clear();  // until the parse succeeds
    reader.apply(changed);
    last = values;
    return reader.resolved();  // --model's network and --data's batch, each file read once per command
  }
};

struct Grid::Resolver {
  std::mutex mutex;
  std::shared_ptr<SharedFiles> files;              // shared by every parser
  std::vector<std::unique_ptr<PointParser>> idle;  // one per thread that resolves at once

  std::unique_ptr<PointParser> take() {
    const std::lock_guard<std::mutex> lock(mutex);
    if (idle.empty()) return std::make_unique<PointParser>(files);
    std::unique_ptr<PointParser> p = std::move(idle.back());
    idle.pop_back();
    return p;
  }
  void give_back(std::unique_ptr<PointParser> p) {
    const std::lock_guard<std::mutex> lock(mutex);
    idle.push_back(std::move(p));
  }
};

namespace {

// CLI11 puts the option's name before a validator's message: drop ours.
std::string without_flag(const std::string& message, const std::string& name) {
  const std::string prefix = "--" + name + ": ";
  return message.starts_with(prefix) ? message.substr(prefix.size()) : message;
}

// The check of a grid option's text, run by CLI11 as the flag (or config key) is read: its
// syntax, every list value and both ends of every range through analyze's own option.
CLI::Validator axis_check(const std::string& name, const std::shared_ptr<PointParser>& parser) {
  return CLI::Validator(
      [name, parser](std::string& text) -> std::string {
        try {
          for (const std::string& v : axis_probe_values(name, kind_of(name), text, kBracketLists.count(name) > 0))
            parser->check(name, v);
          return "";
        } catch (const UsageError& e) {
          return without_flag(e.what(), name);
        }
      },
      "");
}

}  // namespace

AxisKind axis_kind(const std::string& name) { return kind_of(name); }

bool GridOptions::any_given() const {
  return std::any_of(given.begin(), given.end(), [](const auto& v) { return !v.empty(); });
}

bool GridOptions::was_given(const std::string& name) const {
  const auto it = std::find(names.begin(), names.end(), name);
  return it != names.end() && !given[static_cast<std::size_t>(it - names.begin())].empty();
}

void add_grid_options(CLI::App& cmd, GridOptions& g) {
  AnalysisConfig proto_config;
  ModelOptions proto_model;
  CLI::App proto;
  add_network_options(proto, proto_config);
  add_model_options(proto, proto_model);  // --model, --data, ...: a list of --data files is an axis
  std::vector<const CLI::Option*> mirrored;
  std::vector<CLI::Option*> made;  // the grid option of each mirrored one
  for (const CLI::Option* p : proto.get_options())
    if (!p->get_lnames().empty() && !kNotMirrored.count(p->get_lnames().front())) mirrored.push_back(p);
  g.names.clear();
  g.given.assign(mirrored.size(), {});  // sized once: the options keep pointers into it
  g.files = std::make_shared<SharedFiles>();
  const auto parser = std::make_shared<PointParser>(g.files);
  for (std::size_t k = 0; k < mirrored.size(); ++k) {
    const CLI::Option* p = mirrored[k];
    const std::string name = p->get_lnames().front();
    g.names.push_back(name);
    std::string flags;
    for (const std::string& s : p->get_snames()) flags += "-" + s + ",";
    flags += "--" + name;
    const std::string full_type = p->get_type_name();  // "KIND:{a,b}": keep the choices
    const std::size_t colon = full_type.find(':');
    std::string type;
    if (kSingleValued.count(name)) type = full_type.substr(0, colon);
    else if (kind_of(name) == AxisKind::file) type = full_type + std::string(kFileListType);  // FILE.onnx[,...]
    else type = kind_of(name) == AxisKind::text ? "LIST" : "LIST|A:B:S";
    if (colon != std::string::npos) type += full_type.substr(colon);
    std::string help = p->get_description();
    if (name == "width") help = "Units per hidden layer; per-layer widths as one value: [64,32,16]";
    if (kind_of(name) == AxisKind::file)
      help += ". A list of files is an axis (a.csv,b.csv); a value that names an existing file is that file, "
              "commas, colons and brackets in its name included; in a list, a comma of a name is written twice "
              "(my,,model.onnx)";
    if (kSingleValued.count(name)) help += " (one value: it never changes a result)";
    // One text per option, given once (validators.h's rule for lists): CLI11 neither splits it
    // nor reads [64,32,16] as three values.
    if (p->get_expected_min() == 0) {  // a flag (--jacobian): on for every run, not an axis
      made.push_back(cmd.add_flag_function(flags, [&slot = g.given[k]](std::int64_t) { slot = {"true"}; }, help)
                         ->group(p->get_group()));
      continue;
    }
    CLI::Option* o = cmd.add_option_function<std::string>(
                            flags, [&slot = g.given[k]](const std::string& text) { slot = {text}; }, help)
                         ->check(axis_check(name, parser))
                         ->type_name(type)
                         ->group(p->get_group());
    if (!p->get_default_str().empty()) o->default_str(p->get_default_str());
    made.push_back(o);
  }
  // The exclusions among them (--model excludes -d, -w, ...), as analyze has them.
  for (std::size_t k = 0; k < mirrored.size(); ++k)
    for (const CLI::Option* other : mirrored[k]->get_excludes()) {
      const auto it = std::find(mirrored.begin(), mirrored.end(), other);
      if (it != mirrored.end()) made[k]->excludes(made[static_cast<std::size_t>(it - mirrored.begin())]);
    }
}

Grid::Grid(const GridOptions& g, std::uint64_t max_runs) : resolver_(std::make_unique<Resolver>()) {
  resolver_->files = g.files ? g.files : std::make_shared<SharedFiles>();
  std::unique_ptr<PointParser> parser = resolver_->take();
  const bool arch_given = g.was_given("arch") || g.was_given("model");  // they name their own activations
  for (std::size_t k = 0; k < g.names.size(); ++k) {
    const std::string& name = g.names[k];
    Axis axis{name, kind_of(name), {}};
    if (!g.given[k].empty()) {
      axis.values = axis_values(name, axis.kind, g.given[k], kBracketLists.count(name) > 0, max_runs);
    } else if (name == "activation" && !arch_given) {
      axis.values = AnalysisConfig{}.activations;  // analyze's default: sigmoid, tanh, relu
    } else {
      continue;
    }
    if (kSingleValued.count(name) && axis.values.size() > 1)
      throw UsageError(fmt::format("--{}: give one value, not {} ('{}'): it never changes a result, "
                                   "so it is not an axis of the grid",
                                   name, axis.values.size(), join(axis.values, ",")));
    for (const std::string& item : g.given[k])  // each list value and each range's ends, on its own
      for (const std::string& v : axis_probe_values(name, axis.kind, item, kBracketLists.count(name) > 0)) parser->check(name, v);
    size_ = saturating_mul(size_, axis.values.size());
    axes_.push_back(std::move(axis));
  }
  if (size_ > max_runs)
    throw UsageError(fmt::format("the grid has {} runs ({}), more than --max-runs {}: narrow an "
                                 "axis, split it into several sweeps, or raise --max-runs",
                                 size_ == UINT64_MAX ? std::string("too many") : std::to_string(size_),
                                 shape(), max_runs));
  resolver_->give_back(std::move(parser));
}

Grid::~Grid() = default;
Grid::Grid(Grid&&) noexcept = default;

std::string Grid::shape() const {
  std::vector<std::string> parts;
  for (const Axis& a : axes_)
    if (a.values.size() > 1) parts.push_back(fmt::format("{} {}", a.values.size(), a.name));
  return parts.empty() ? std::string("1 run") : join(parts, " x ");
}

std::vector<std::string> Grid::values(std::uint64_t i) const {
  std::vector<std::string> out(axes_.size());
  for (std::size_t k = axes_.size(); k-- > 0;) {
    const std::uint64_t n = axes_[k].values.size();
    out[k] = axes_[k].values[i % n];
    i /= n;
  }
  return out;
}

std::string Grid::label(std::uint64_t i, std::string_view skip) const {
  const std::vector<std::string> v = values(i);
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < axes_.size(); ++k) {
    if (axes_[k].values.size() < 2 || axes_[k].name == skip) continue;
    // A per-layer list in brackets, as it is given; a file's name as it is, commas and all.
    const bool list = kBracketLists.count(axes_[k].name) && v[k].find(',') != std::string::npos;
    parts.push_back(axes_[k].name + "=" + (list ? "[" + v[k] + "]" : v[k]));
  }
  return join(parts, " ");
}

AnalysisConfig Grid::config(std::uint64_t i) const {
  std::unique_ptr<PointParser> parser = resolver_->take();
  try {
    AnalysisConfig c = parser->resolve(axes_, values(i));
    resolver_->give_back(std::move(parser));
    validate(c);
    return c;
  } catch (const UsageError& e) {
    if (size_ == 1) throw;
    throw UsageError(fmt::format("run {} of the grid ({}): {}", i + 1, label(i), e.what()));
  }
}

CLI::Validator shard_spec() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const std::size_t slash = value.find('/');
        std::uint64_t k = 0, n = 0;
        bool ok = slash != std::string::npos;
        if (ok) {
          const char* b = value.data();
          const auto r1 = std::from_chars(b, b + slash, k);
          const auto r2 = std::from_chars(b + slash + 1, b + value.size(), n);
          ok = r1.ec == std::errc() && r1.ptr == b + slash && r2.ec == std::errc() &&
               r2.ptr == b + value.size() && n >= 1 && k >= 1 && k <= n;
        }
        if (ok) return "";
        return fmt::format("'{}' is not allowed: give K/N with 1 <= K <= N, e.g. 3/8 for the third "
                           "of eight shards",
                           value);
      },
      "");
}

Shard parse_shard(const std::string& text) {
  Shard s;
  const std::size_t slash = text.find('/');
  std::from_chars(text.data(), text.data() + slash, s.k);
  std::from_chars(text.data() + slash + 1, text.data() + text.size(), s.n);
  return s;
}

}  // namespace gf
