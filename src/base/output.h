#pragma once
// Where a finished report goes (output_target.h says how a path is read): stdout or another
// descriptor, a device or FIFO written through, or a regular file that appears whole or not at
// all. A regular file is written to an unnamed temporary file in its directory (O_TMPFILE, so
// even kill -9 leaves nothing behind) and linked or renamed into place; the target's permission
// bits are kept. The target is claimed before any work starts, so a bad path fails at once.
#include <optional>
#include <string>
#include <string_view>

#include "base/output_target.h"

namespace gf {

// Thrown when stdout's reader has gone (`gradflow ... | head -1`): gradflow ends quietly.
struct BrokenPipe {};

class ReportSink {
 public:
  // "-" is stdout; `flag` names the option in error messages.
  explicit ReportSink(std::string path, std::string flag = "--output");
  ~ReportSink();
  ReportSink(const ReportSink&) = delete;
  ReportSink& operator=(const ReportSink&) = delete;

  bool is_stdout() const { return target_.kind == TargetKind::descriptor && target_.fd == 1; }
  const OutputTarget& target() const { return target_; }
  void write(std::string_view text);  // the whole report, once

 private:
  void commit();
  OutputTarget target_;
  std::string flag_, temp_path_;  // temp_path_: a named temporary file (no O_TMPFILE here)
  int fd_ = -1;                   // the temporary file, or the stream
  int guard_fd_ = -1;             // a shared lock on the file being replaced (file_lock.h)
  bool unnamed_ = false;          // fd_ is an O_TMPFILE
  bool done_ = false;
};

// --plot FILE.svg beside --output: none when `plot` is empty; throws UsageError when the name
// does not end in .svg or is the report's own file.
std::optional<ReportSink> open_plot(const std::string& plot, const ReportSink& output,
                                    const std::string& flag = "--plot");

// Writes all of `text` to fd (retrying short writes and EINTR); throws UsageError naming `flag`
// and `path` on failure, BrokenPipe when a pipe's reader has gone, Interrupted on Ctrl-C while
// blocked.
void write_all(int fd, std::string_view text, std::string_view flag, const std::string& path);

void write_stdout(std::string_view text);  // throws BrokenPipe

}  // namespace gf
