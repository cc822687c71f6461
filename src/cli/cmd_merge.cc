#include "cli/cmd_merge.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "base/errors.h"
#include "base/exit_status.h"
#include "base/output.h"
#include "base/utf8.h"
#include "batch/records.h"

namespace gf {

CLI::App* setup_merge(CLI::App& app, MergeOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Merge the JSONL records of several sweeps or shards into one file: each run once, in the "
      "order read (file by file). The same run with different results is an error.");
  cmd->add_option("files", o.files, "JSONL records of gradflow sweep; - is stdin")
      ->type_name("FILE");
  cmd->add_option("-o,--output", o.output, "Write the merged records to FILE (atomically); - is stdout")
      ->type_name("FILE")
      ->default_str("-");
  cmd->footer(
      "Example, after `gradflow sweep ... --shard K/8 -o shard-K.jsonl` for K = 1..8:\n"
      "  gradflow merge shard-*.jsonl -o runs.jsonl && gradflow summarize runs.jsonl --pivot depth,activation");
  return cmd;
}

int run_merge(const MergeOptions& o) {
  if (o.files.empty())
    throw UsageError("give one or more files of JSONL records from gradflow sweep (- reads stdin)");
  ReportSink sink(o.output);
  const RecordSet set = read_records(o.files);
  for (const std::string& note : set.notes) std::fprintf(stderr, "gradflow: warning: %s\n", printable_line(note).c_str());
  std::string out;
  for (const Record& r : set.records) {
    out += r.line;
    out += '\n';
  }
  sink.write(out);
  std::fprintf(stderr, "gradflow merge: %zu records from %zu file%s%s\n", set.records.size(), o.files.size(),
               o.files.size() == 1 ? "" : "s",
               set.duplicates ? fmt::format(", {} duplicates dropped", set.duplicates).c_str() : "");
  return kExitOk;
}

}  // namespace gf
