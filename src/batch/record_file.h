#pragma once
// The file a sweep appends its records to, one whole line at a time (append_file.h: one
// write(2) per record; a failed write is cut back to the last whole line; a regular file is
// locked for the sweep's whole life, so a second sweep on it is refused and changes nothing).
//
// Opening checks what is already there: without --resume or --overwrite an existing file is an
// error; with --resume the records present are read (their run_ids returned), a torn last line
// (the start of a record without its newline: the machine died mid-write) is cut off and
// reported, and a line that is not a record is an error. With CSV the header must be this
// gradflow's. Stdout, /dev/null, a FIFO or another device is written through and cannot be
// resumed.
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/append_file.h"

namespace gf {

struct RecordFileOptions {
  std::string path;  // "-": stdout
  bool csv = false;
  bool resume = false, overwrite = false;
  std::string header;  // CSV header line, written first into a new file
};

class RecordFile {
 public:
  explicit RecordFile(const RecordFileOptions& o);  // throws UsageError

  // A regular file: its records can be read back by --resume.
  bool resumable() const { return file_->regular(); }
  const std::set<std::string>& present() const { return present_; }  // run_ids already there
  const std::string& torn_notice() const { return torn_notice_; }   // "" or what was cut

  void append(std::string_view lines) { file_->append(lines); }  // throws BrokenPipe or UsageError
  void close() { file_->close(); }                                // fsync: every record is on disk

 private:
  std::uint64_t read_present(const std::string& file);  // bytes of whole records to keep
  RecordFileOptions o_;
  std::optional<AppendFile> file_;
  std::set<std::string> present_;
  std::string torn_notice_;
};

}  // namespace gf
