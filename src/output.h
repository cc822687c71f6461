#pragma once
// Where a finished report goes: stdout, or a file that appears whole or not at all (written to
// a temporary file beside it, then renamed). The file is claimed before any work starts, so an
// unwritable path fails at once.
#include <optional>
#include <string>
#include <string_view>

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

  bool is_stdout() const { return path_ == "-"; }
  void write(std::string_view text);  // the whole report, once

 private:
  std::string path_, flag_, temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// --plot FILE.svg beside --output: none when `plot` is empty; throws UsageError when the name
// does not end in .svg or is the report's own file.
std::optional<ReportSink> open_plot(const std::string& plot, const std::string& output);

// Writes all of `text` to fd (retrying short writes and EINTR); throws UsageError naming `flag`
// and `path` on failure.
void write_all(int fd, std::string_view text, std::string_view flag, const std::string& path);

void write_stdout(std::string_view text);  // throws BrokenPipe

}  // namespace gf
