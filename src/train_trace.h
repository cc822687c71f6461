#pragma once
// --trace FILE: one JSON line per run and log step, written as training goes (so `tail -f`
// works) and only ever in whole lines: each line is one write(2) under a lock, so an
// interrupted or killed run leaves a file whose every line parses.
#include <mutex>
#include <string>
#include <string_view>

namespace gf {

class TraceWriter {
 public:
  explicit TraceWriter(std::string path);  // truncates; throws UsageError naming --trace
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void write_line(std::string_view line);  // thread-safe; line ends in '\n'

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace gf
