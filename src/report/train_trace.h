#pragma once
// --trace FILE: one JSON line per run and log step, written as training goes (so `tail -f`
// works) and only ever in whole lines: each line is one write(2) under a mutex, and a failed
// write is cut back to the last whole line (append_file.h). A regular file is locked for the
// whole training, so a second writer is refused and changes nothing; it is emptied only once
// the lock is held.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/append_file.h"

namespace gf {

class TraceWriter {
 public:
  explicit TraceWriter(OutputTarget target);  // locks, then empties; throws UsageError naming --trace

  // Thread-safe; line ends in '\n'. After a failed write every later call throws the same
  // error, so the other runs stop at their next log step instead of training on.
  void write_line(std::string_view line);
  void close();                            // fsync

 private:
  std::mutex mutex_;
  AppendFile file_;
  std::string failure_;
};

}  // namespace gf
