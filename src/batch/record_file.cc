#include "batch/record_file.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

#include "base/errors.h"
#include "batch/run_record.h"

namespace gf {

RecordFile::RecordFile(const RecordFileOptions& o) : o_(o) {
  if (o.resume && o.overwrite) throw UsageError("--resume and --overwrite: give one");
  OutputTarget t = resolve_output(o.path, "--output");
  if (t.kind != TargetKind::regular) {
    if (o.resume)
      throw UsageError(fmt::format("--resume reads the records back from the output file, and '{}' is {}: "
                                   "give the file with -o FILE",
                                   o.path, t.kind == TargetKind::descriptor ? "a descriptor" : "not a regular file"));
    file_.emplace(std::move(t), "--output");
    if (o.csv) file_->append(o.header);
    return;
  }
  auto already_there = [&] {
    return UsageError(fmt::format("--output: '{}' already exists: add --resume to finish the sweep it "
                                  "holds, or --overwrite to start again",
                                  o.path));
  };
  if (t.exists && !o.resume && !o.overwrite) throw already_there();
  const std::string file = t.file;
  const bool existed = t.exists;
  file_.emplace(std::move(t), "--output");  // locked from here on
  if (!existed && file_->size() > 0 && !o.resume && !o.overwrite) throw already_there();  // it just appeared

  const std::uint64_t keep = o.resume ? read_present(file) : 0;
  if (keep != file_->size()) file_->truncate(keep);
  if (o.csv && keep == 0) file_->append(o.header);
}

std::uint64_t RecordFile::read_present(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError(fmt::format("--resume: cannot read '{}': {}", o_.path, std::strerror(errno)));
  std::uint64_t keep = 0;  // bytes of whole lines
  std::string line;
  std::size_t number = 0;
  bool header_ok = !o_.csv;
  while (std::getline(in, line)) {
    ++number;
    const bool header = o_.csv && number == 1;
    if (in.eof()) {  // no newline after it: torn by a crash or a full disk, or never a record
      const bool torn = header ? std::string_view(o_.header).starts_with(line) : is_torn_record(line, o_.csv);
      if (!torn)
        throw UsageError(fmt::format("--resume: the last line of '{}' (line {}) is neither a record of "
                                     "gradflow sweep (--format {}) nor the start of one",
                                     o_.path, number, o_.csv ? "csv" : "jsonl"));
      torn_notice_ = fmt::format("dropped a torn last line from '{}' (line {}, {} bytes without a newline); its "
                                 "run will be redone",
                                 o_.path, number, line.size());
      break;
    }
    keep += line.size() + 1;
    if (header) {
      if (line + "\n" != o_.header)
        throw UsageError(fmt::format("--resume: '{}' does not start with the CSV header this gradflow writes "
                                     "(another version, or another --layers setting?)",
                                     o_.path));
      header_ok = true;
      continue;
    }
    const std::string id = run_id_of_line(line, o_.csv);
    if (id.empty())
      throw UsageError(fmt::format("--resume: line {} of '{}' is not a record of gradflow sweep (--format {})",
                                   number, o_.path, o_.csv ? "csv" : "jsonl"));
    present_.insert(id);
  }
  if (in.bad()) throw UsageError(fmt::format("--resume: cannot read '{}': {}", o_.path, std::strerror(errno)));
  return header_ok ? keep : 0;  // nothing whole but a torn header: start the file again
}

}  // namespace gf
