#pragma once
// Rules for `gradflow check`: a bound on a metric that every run (or every layer of every run)
// must respect. From flags (--max-dead-frac ...), --rule text, or a config file's "rules".
//
// Text:  METRIC OP BOUND [layers=A:B] [activation=NAME]     e.g. "dead_units_frac<=0.05 layers=2:"
// JSON:  {"metric": "dead_units_frac", "op": "<=", "bound": 0.05, "layers": "2:", "activation": "relu"}
// OP is <, <=, > or >=. METRIC is a summary metric (checked once per run) or a per-layer metric
// (checked on every layer of the range; layers=A:B is inclusive, A: runs to the last layer, A is
// one layer). A name that is both (dead_units_frac) means the summary's unless layers= is given.
// --jacobian's figures are checked once per run: jac_isometry of J, jac_isometry_from_16 of the
// partial d a_L / d a_16 of --jacobian-depths (jacobian_record.h).
// An undefined value (the network overflowed) violates every rule on it: never a silent pass.
// Residual nets also have block metrics (metrics.h's block_metrics: checked on every block of
// blocks=A:B, default all) and run figures from the blocks (block_run_metrics, e.g.
// "grad_stream_spread_log10 <= 1": once per run); a run without blocks is not checked by them.
#include <span>
#include <string>
#include <vector>

#include "core/analysis.h"

namespace gf {

enum class RuleOp { lt, le, gt, ge };

struct Rule {
  std::string metric;
  RuleOp op = RuleOp::le;
  double bound = 0;
  bool per_layer = false;
  bool per_block = false;                 // a block metric: the range below counts blocks
  Index first_layer = 1, last_layer = 0;  // last 0: the network's last layer (block)
  std::string activation;                 // "": every activation
  std::string origin;                     // "--max-dead-frac", "--rule", ...
  std::string text() const;               // "dead_units_frac <= 0.05 (layers 2..L, relu)"
  std::string bound_text() const;         // "<= 0.05"
  std::string op_text() const;            // "<="
};

// Throws UsageError naming `origin` and what is wrong.
Rule parse_rule(const std::string& spec, const std::string& origin);

struct CheckedRun {
  std::string config;  // which configuration: the config file, or the grid's varying axes
  const RunResult* result;
};

struct Violation {
  std::string config, activation;
  Index layer = 0;  // 0: a summary metric; the block's number for a block metric (Rule::per_block)
  double value = kNaN;
  std::string name;  // --model: the layer's name in the model file ("0.weight"); else empty
};

struct RuleOutcome {
  std::size_t checked = 0;  // values compared
  std::vector<Violation> violations;
};

// Throws UsageError when the rule applies to no run or layer at all (a rule that checks
// nothing would pass silently).
RuleOutcome evaluate_rule(const Rule& rule, const std::vector<CheckedRun>& runs);

bool rule_holds(RuleOp op, double value, double bound);  // false for NaN

// The default rule set (`check --rules default`, or a bare `check --config F`): bounds that a
// healthy network at initialisation keeps, whatever its activation, and that each classic
// mistake breaks (relu with Xavier init, a negative relu bias, deep sigmoid, chaotic tanh).
struct DefaultRule {
  const char* text;  // as --rule takes it
  const char* why;   // for --help and the README
};
std::span<const DefaultRule> default_rules();
inline constexpr const char* kDefaultRuleSet = "default";

}  // namespace gf
