#pragma once
// The file a sweep appends its records to, one whole line at a time (a single write(2) per
// record, straight to the kernel: a killed process leaves only whole lines behind).
//
// Opening checks what is already there: without --resume or --overwrite an existing file is an
// error; with --resume the records present are read (their run_ids returned), a torn last line
// (no newline: the machine died mid-write) is cut off and reported, and a line that is not a
// record is an error. With CSV the header must be this gradflow's.
#include <set>
#include <string>
#include <string_view>

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
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  bool is_stdout() const { return o_.path == "-"; }
  const std::set<std::string>& present() const { return present_; }  // run_ids already there
  const std::string& torn_notice() const { return torn_notice_; }   // "" or what was cut

  void append(std::string_view lines);  // throws BrokenPipe (stdout) or UsageError
  void close();                         // fsync: every record is on disk

 private:
  RecordFileOptions o_;
  int fd_ = -1;
  std::set<std::string> present_;
  std::string torn_notice_;
};

}  // namespace gf
