#include "batch/records.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <sys/stat.h>

#include "base/errors.h"
#include "base/interrupt.h"
#include "batch/run_record.h"
#include "core/run_json.h"

namespace gf {
namespace {

using json = nlohmann::ordered_json;

// The first place where two records differ, as "summary.loss: 2.21 vs 2.25".
std::string first_difference(const json& a, const json& b, const std::string& path = "") {
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, va] : a.items()) {
      const std::string p = path.empty() ? key : path + "." + key;
      if (!b.contains(key)) return p + ": missing in the second";
      if (va != b[key]) return first_difference(va, b[key], p);
    }
    for (const auto& [key, vb] : b.items())
      if (!a.contains(key)) return (path.empty() ? key : path + "." + key) + ": missing in the first";
  }
  if (a.is_array() && b.is_array() && a.size() == b.size())
    for (std::size_t k = 0; k < a.size(); ++k)
      if (a[k] != b[k]) return first_difference(a[k], b[k], fmt::format("{}[{}]", path, k));
  return fmt::format("{}: {} vs {}", path, a.dump(), b.dump());
}

json without_layers(json j) {
  j.erase("layers");
  return j;
}

void check_record(const json& rec, const std::string& where) {
  auto bad = [&](const std::string& why) {
    throw UsageError(fmt::format("{}: not a record of gradflow sweep ({})", where, why));
  };
  if (!rec.is_object()) bad("not a JSON object");
  if (!rec.contains("schema_version") || rec["schema_version"] != kSchemaVersion)
    bad(fmt::format("schema_version {}, and this gradflow reads {}",
                    rec.contains("schema_version") ? rec["schema_version"].dump() : "missing", kSchemaVersion));
  if (!rec.contains("run_id") || !rec["run_id"].is_string()) bad("no run_id");
  if (!rec.contains("config") || !rec["config"].is_object()) bad("no config");
  if (!rec.contains("summary") || !rec["summary"].is_object()) bad("no summary");
}

void read_stream(std::istream& in, const std::string& name, RecordSet& set) {
  std::map<std::string, std::size_t> index;  // run_id -> position in set.records
  for (std::size_t k = 0; k < set.records.size(); ++k) index.emplace(set.records[k].json["run_id"].get<std::string>(), k);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number % 4096 == 0) throw_if_interrupted();
    const std::string where = fmt::format("{}:{}", name, number);
    // A torn line is only ever the last one, and only the start of a record: what a sweep
    // still writing, or killed mid-write, leaves. Anything else is not a record at all.
    if (in.eof() && is_torn_record(line, false)) {
      set.notes.push_back(fmt::format("{}: ignored a torn last line ({} bytes without a newline): a "
                                      "sweep still running, or killed mid-write",
                                      where, line.size()));
      break;
    }
    if (line.empty()) continue;
    if (number == 1 && line.rfind("run_id,", 0) == 0)
      throw UsageError(fmt::format("{} is CSV: this reads the JSONL records of gradflow sweep "
                                   "(its default --format jsonl)",
                                   name));
    json rec = json::parse(line, nullptr, false);
    if (rec.is_discarded())
      throw UsageError(fmt::format("{}: not a record of gradflow sweep (malformed JSON{})", where,
                                   in.eof() ? ", and not the start of a record either" : ""));
    check_record(rec, where);
    const std::string id = rec["run_id"].get<std::string>();
    if (const auto it = index.find(id); it != index.end()) {
      const Record& first = set.records[it->second];
      const bool both_layers = first.json.contains("layers") && rec.contains("layers");
      const json a = both_layers ? first.json : without_layers(first.json);
      const json b = both_layers ? rec : without_layers(rec);
      if (a != b)
        throw UsageError(fmt::format("run {} is in {} and in {} with different results ({}): "
                                     "records of one run from different builds or machines? "
                                     "Keep one of them",
                                     id, first.where, where, first_difference(a, b)));
      ++set.duplicates;
      continue;
    }
    index.emplace(id, set.records.size());
    set.records.push_back({std::move(rec), std::move(line), where});
  }
  throw_if_interrupted();  // a read from a pipe cut short by Ctrl-C is not the whole input
  if (in.bad()) throw UsageError(fmt::format("cannot read '{}': {}", name, std::strerror(errno)));
}

}  // namespace

void read_records_from(std::istream& in, const std::string& name, RecordSet& set) { read_stream(in, name, set); }

RecordSet read_records(const std::vector<std::string>& paths) {
  RecordSet set;
  for (const std::string& path : paths) {
    if (path == "-") {
      read_stream(std::cin, "stdin", set);
      continue;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      throw UsageError(fmt::format("'{}' is a directory; give files of JSONL records from gradflow sweep", path));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    read_stream(in, path, set);
  }
  return set;
}

const json* record_key(const json& record, const std::string& key) {
  const json& config = record["config"];
  if (const auto it = config.find(key); it != config.end()) return &*it;
  if (key == "resolved_init" || key == "finite" || key == "run_id")
    if (const auto it = record.find(key); it != record.end()) return &*it;
  return nullptr;
}

std::vector<std::string> record_keys(const json& record) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : record["config"].items()) keys.push_back(key);
  keys.insert(keys.end(), {"resolved_init", "finite", "run_id"});
  return keys;
}

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());  // 0, not 0.0
  return v.dump();
}

}  // namespace gf
