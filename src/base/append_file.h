#pragma once
// A file that grows by whole lines: a sweep's records, a training trace. Each append is one
// write(2) straight to the kernel, so a killed process leaves whole lines; an append that fails
// (disk full, file size limit, I/O error) is cut back to the last whole line before the error is
// thrown, so the file never ends in a torn line either.
//
// A regular file is held under an exclusive lock (file_lock.h) from before its first byte
// changes until the writer ends: a second writer is refused and changes nothing. Stdout, a
// device or a FIFO (output_target.h) is written through, without a lock.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/output_target.h"

namespace gf {

class AppendFile {
 public:
  // Opens (creating a regular file that is not there yet) and locks; changes no byte.
  AppendFile(OutputTarget target, std::string flag);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  const OutputTarget& target() const { return t_; }
  bool regular() const { return t_.kind == TargetKind::regular; }
  std::uint64_t size() const { return size_; }  // regular: bytes in the file

  void truncate(std::uint64_t bytes);   // regular only; then appends go after `bytes`
  void append(std::string_view lines);  // whole lines; throws UsageError, BrokenPipe
  void close();                         // fsync (regular): every line is on disk

 private:
  OutputTarget t_;
  std::string flag_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace gf
