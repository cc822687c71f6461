#include "fuzz_targets.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sstream>

#include "base/errors.h"
#include "base/json_io.h"
#include "batch/aggregate.h"
#include "batch/grid.h"
#include "batch/records.h"
#include "batch/rules.h"
#include "batch/run_record.h"
#include "cli/cli.h"
#include "config/model_options.h"
#include "config/config_file.h"
#include "core/analysis.h"
#include "model/onnx_map.h"
#include "model/onnx_read.h"
#include "theory/theory.h"
#include "train/dataset_csv.h"
#include "train/train_config.h"

namespace gf::fuzz {

// Applies the file to one command's options (only that command is built: a fuzzer's run should
// cost little), then does what the command does first with them, short of running.
template <class Options, class Setup, class Check>
void apply_then(std::string_view text, Setup setup, Check check) {
  CLI::App root{"gradflow", "gradflow"};
  Options o;
  CLI::App* app = setup(root, o);
  const char* argv[] = {"gradflow", app->get_name().c_str()};
  root.parse(2, argv);
  apply_config_json(*app, parse_json_strict(text, "--config fuzz.json"), "--config fuzz.json");
  check(o);
}

void check_grid(const GridOptions& g) {
  const Grid grid(g, 64);
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(grid.size(), 4); ++i) {
    (void)run_id_of(record_config(grid.config(i)));
    (void)grid.label(i);
  }
}

void config(std::string_view bytes) {
  if (bytes.empty()) return;
  const auto command = static_cast<unsigned char>(bytes[0]) % 8;  // the first byte picks the command
  bytes.remove_prefix(1);
  try {
    switch (command) {
      case 0: apply_then<AnalyzeOptions>(bytes, setup_analyze, [](const AnalyzeOptions& o) { validate(o.config); }); break;
      case 1: apply_then<SweepOptions>(bytes, setup_sweep, [](const SweepOptions& o) { check_grid(o.grid); }); break;
      case 2:
        apply_then<CheckOptions>(bytes, setup_check, [](const CheckOptions& o) {
          for (const std::string& rule : o.rules) (void)parse_rule(rule, "--rule");
          check_grid(o.grid);
        });
        break;
      case 3: apply_then<TrainOptions>(bytes, setup_train, [](const TrainOptions& o) { (void)parse_seeds(o.seeds); }); break;
      case 4:
        apply_then<TheoryOptions>(bytes, setup_theory, [](const TheoryOptions& o) {
          TheoryConfig c = o.config;
          if (!o.sigma_w2.empty()) c.sigma_w2 = parse_range(o.sigma_w2);
          if (!o.sigma_b2.empty()) c.sigma_b2 = parse_range(o.sigma_b2);
          validate(c);
        });
        break;
      case 5: apply_then<SummarizeOptions>(bytes, setup_summarize, [](const SummarizeOptions&) {}); break;
      case 6: apply_then<MergeOptions>(bytes, setup_merge, [](const MergeOptions&) {}); break;
      case 7: apply_then<BenchOptions>(bytes, setup_bench, [](const BenchOptions&) {}); break;
    }
  } catch (const UsageError&) {
  } catch (const std::invalid_argument&) {  // parse_range's own, turned into a message by its validator
  }
}

void csv(std::string_view bytes) {
  if (bytes.empty()) return;
  // The first byte picks the label column and the held-out share.
  const auto b = static_cast<unsigned char>(bytes[0]);
  bytes.remove_prefix(1);
  const std::string label = b % 4 == 0 ? "" : b % 4 == 1 ? "1" : b % 4 == 2 ? "-1" : "label";
  try {
    const Dataset d = parse_csv_dataset(bytes, {"fuzz.csv", label, (b >> 2) % 5 * 0.2, b});
    (void)d.n_train();
  } catch (const UsageError&) {
  }
}

void records(std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  try {
    RecordSet set;
    read_records_from(in, "fuzz.jsonl", set);
    for (std::size_t start = 0, n = 0; start < bytes.size() && n < 64; ++n) {  // what --resume asks of a line
      const std::size_t end = std::min(bytes.find('\n', start), bytes.size());
      const std::string_view line = bytes.substr(start, end - start);
      (void)is_torn_record(line, false);
      (void)is_torn_record(line, true);
      (void)run_id_of_line(line, false);
      (void)run_id_of_line(line, true);
      start = end + 1;
    }
    std::vector<std::string> keys = varying_keys(set.records);
    if (set.records.empty()) return;
    (void)group_records(set.records, keys, {"grad_first_last_log10", "dead_units_frac"});
    keys.push_back("seed");
    keys.push_back("activation");
    for (const std::string& k : keys) check_key(set.records, k, "--by");
    (void)make_pivot(set.records, keys[0], keys[1] == keys[0] ? "run_id" : keys[1], "loss");
  } catch (const UsageError&) {
  }
}

void onnx(std::string_view bytes) {
  try {
    auto g = std::make_shared<GivenNetwork>(map_onnx(parse_onnx(bytes, "fuzz.onnx"), "fuzz.onnx"));
    Index params = 0;
    for (const RowMat<double>& W : g->W) params += W.size();
    if (params > 4096) return;  // mapped; a pass over a large one would cost the fuzzer its speed
    AnalysisConfig c;
    c.batch = 4;
    c.threads = 1;
    use_model(std::move(g), "fuzz.onnx", c);
    (void)run_analysis(c);
  } catch (const UsageError&) {
  }
}

}  // namespace gf::fuzz
