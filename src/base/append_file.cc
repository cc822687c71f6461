#include "base/append_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errors.h"
#include "base/file_lock.h"
#include "base/output.h"

namespace gf {

AppendFile::AppendFile(OutputTarget target, std::string flag) : t_(std::move(target)), flag_(std::move(flag)) {
  switch (t_.kind) {
    case TargetKind::descriptor: return;
    case TargetKind::stream: fd_ = open_stream(t_, flag_); return;
    case TargetKind::regular: break;
  }
  fd_ = ::open(t_.file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) throw UsageError(fmt::format("{}: cannot write '{}': {}", flag_, t_.given, std::strerror(errno)));
  lock_file(fd_, LockMode::exclusive, flag_, t_.given);
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    throw UsageError(fmt::format("{}: cannot read '{}': {}", flag_, t_.given, std::strerror(errno)));
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (::lseek(fd_, 0, SEEK_END) < 0)
    throw UsageError(fmt::format("{}: cannot append to '{}': {}", flag_, t_.given, std::strerror(errno)));
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::truncate(std::uint64_t bytes) {
  if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0 || ::lseek(fd_, static_cast<off_t>(bytes), SEEK_SET) < 0)
    throw UsageError(fmt::format("{}: cannot cut '{}' to {} bytes: {}", flag_, t_.given, bytes, std::strerror(errno)));
  size_ = bytes;
}

void AppendFile::append(std::string_view lines) {
  if (t_.kind == TargetKind::descriptor) {
    if (t_.fd == STDOUT_FILENO) write_stdout(lines);
    else write_all(t_.fd, lines, flag_, t_.given);
    return;
  }
  if (t_.kind == TargetKind::stream) {
    write_all(fd_, lines, flag_, t_.given);
    return;
  }
  try {
    write_all(fd_, lines, flag_, t_.given);
  } catch (const UsageError& e) {
    // Part of the lines may have reached the file: cut back to the last whole line.
    const bool cut = ::ftruncate(fd_, static_cast<off_t>(size_)) == 0 && ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET) >= 0;
    throw UsageError(fmt::format("{}{}", e.what(),
                                 cut ? fmt::format("; '{}' was cut back to its last whole line ({} bytes)",
                                                   t_.given, size_)
                                     : fmt::format("; '{}' may end in a torn line: cutting it back failed ({})",
                                                   t_.given, std::strerror(errno))));
  }
  size_ += lines.size();
}

void AppendFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  const int error = t_.kind != TargetKind::regular || ::fsync(fd) == 0 ? 0 : errno;
  const int close_error = ::close(fd) == 0 ? 0 : errno;
  if (error || (close_error && close_error != EINTR))
    throw UsageError(fmt::format("{}: writing '{}' failed: {}", flag_, t_.given, std::strerror(error ? error : close_error)));
}

}  // namespace gf
