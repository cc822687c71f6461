#pragma once
// The JSON document of `gradflow train` (schema_version 1, command "train"), and the JSON of
// one log record, which is also one line of --trace. Wall-clock times are left out unless
// asked for, so a document is byte-identical for any --threads.
#include <nlohmann/json.hpp>
#include <string>

#include "train/train.h"

namespace gf {

nlohmann::ordered_json train_config_json(const TrainConfig& c, const DatasetInfo& d);
nlohmann::ordered_json log_record_json(const LogRecord& r);
// One --trace line: the run's identity, then the record.
std::string trace_line(const TrainRun& run, const LogRecord& r, bool with_lr = false);  // with_lr: several rates
std::string train_json(const TrainResult& result, bool timings);

}  // namespace gf
