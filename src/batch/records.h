#pragma once
// Reading the JSONL records of one or more sweeps (or shards of one): for summarize and merge.
// Runs are identified by run_id: a record seen twice with the same results is kept once; the
// same run_id with different results (another build, machine or dtype rounding) is an error,
// since no answer built on either would be trustworthy.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gf {

struct Record {
  nlohmann::ordered_json json;
  std::string line;    // the text as read, without the newline
  std::string where;   // "runs.jsonl:12"
};

struct RecordSet {
  std::vector<Record> records;  // unique by run_id, in the order first read
  std::size_t duplicates = 0;   // identical repeats dropped
  std::vector<std::string> notes;  // torn last lines skipped
};

// "-" reads stdin. Throws UsageError naming the file and line of anything that is not a record.
RecordSet read_records(const std::vector<std::string>& paths);
// The same for one stream; `name` stands for the file in messages. Adds to `set`.
void read_records_from(std::istream& in, const std::string& name, RecordSet& set);

// A record's value for a grouping key: a config key (the long option names), or resolved_init,
// finite or run_id. nullptr when the record has no such key.
const nlohmann::ordered_json* record_key(const nlohmann::ordered_json& record, const std::string& key);
// The keys record_key knows, for messages.
std::vector<std::string> record_keys(const nlohmann::ordered_json& record);
// A value as text: strings bare, numbers in their shortest form ("20", "0.5", "0"), anything else
// as JSON ("[64,32]").
std::string value_text(const nlohmann::ordered_json& v);

}  // namespace gf
