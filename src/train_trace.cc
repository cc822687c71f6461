#include "train_trace.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "output.h"

namespace gf {

TraceWriter::TraceWriter(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError(fmt::format("--trace: '{}' is a directory; give a file name", path_));
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
  if (fd_ < 0) throw UsageError(fmt::format("--trace: cannot write '{}': {}", path_, std::strerror(errno)));
}

TraceWriter::~TraceWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void TraceWriter::write_line(std::string_view line) {
  const std::lock_guard<std::mutex> lock(mutex_);
  write_all(fd_, line, "--trace", path_);
}

}  // namespace gf
