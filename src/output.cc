#include "output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

namespace gf {

std::optional<ReportSink> open_plot(const std::string& plot, const std::string& output) {
  if (plot.empty()) return std::nullopt;
  if (!plot.ends_with(".svg"))
    throw UsageError(fmt::format("--plot: '{}' does not end in .svg: gradflow draws SVG", plot));
  if (plot == output) throw UsageError(fmt::format("--plot and --output are both '{}': give two files", plot));
  return std::optional<ReportSink>(std::in_place, plot, "--plot");
}

void write_all(int fd, std::string_view text, std::string_view flag, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UsageError(fmt::format("{}: writing '{}' failed: {}", flag, path, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) throw BrokenPipe{};
    throw UsageError(fmt::format("cannot write to stdout: {}", std::strerror(errno)));
  }
}

ReportSink::ReportSink(std::string path, std::string flag) : path_(std::move(path)), flag_(std::move(flag)) {
  if (is_stdout()) return;
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError(fmt::format("{}: '{}' is a directory; give a file name", flag_, path_));
  std::string temp = path_ + ".tmp.XXXXXX";
  fd_ = ::mkstemp(temp.data());
  if (fd_ < 0)
    throw UsageError(fmt::format("{}: cannot write '{}': {}", flag_, path_, std::strerror(errno)));
  temp_path_ = temp;
}

ReportSink::~ReportSink() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty() && !committed_) ::unlink(temp_path_.c_str());
}

void ReportSink::write(std::string_view text) {
  if (is_stdout()) {
    write_stdout(text);
    return;
  }
  write_all(fd_, text, flag_, path_);
  const mode_t mask = ::umask(0);  // mkstemp makes 0600; a report is an ordinary file
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    throw UsageError(fmt::format("{}: writing '{}' failed: {}", flag_, path_, std::strerror(errno)));
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw UsageError(fmt::format("{}: cannot create '{}': {}", flag_, path_, std::strerror(errno)));
  committed_ = true;
}

}  // namespace gf
