#include "base/output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errors.h"
#include "base/file_lock.h"
#include "base/interrupt.h"

namespace gf {
namespace {

std::string base_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

mode_t default_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

std::optional<ReportSink> open_plot(const std::string& plot, const ReportSink& output, const std::string& flag) {
  if (plot.empty()) return std::nullopt;
  const OutputTarget target = resolve_output(plot, flag);
  if (target.kind == TargetKind::regular && !plot.ends_with(".svg"))  // /dev/null, a FIFO: any name
    throw UsageError(fmt::format("{}: '{}' does not end in .svg: gradflow draws SVG", flag, plot));
  if (same_target(target, output.target()))
    throw UsageError(fmt::format("{} and --output are both '{}': give two files", flag, plot));
  return std::optional<ReportSink>(std::in_place, plot, flag);
}

void write_all(int fd, std::string_view text, std::string_view flag, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      throw_if_interrupted();  // blocked on a full pipe when Ctrl-C came
      continue;
    }
    if (n < 0 && errno == EPIPE) throw BrokenPipe{};
    if (n < 0) throw UsageError(fmt::format("{}: writing '{}' failed: {}", flag, path, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) throw BrokenPipe{};
    if (errno == EINTR) throw_if_interrupted();
    throw UsageError(fmt::format("cannot write to stdout: {}", std::strerror(errno)));
  }
}

ReportSink::ReportSink(std::string path, std::string flag)
    : target_(resolve_output(path, flag)), flag_(std::move(flag)) {
  if (target_.kind == TargetKind::descriptor) return;
  if (target_.kind == TargetKind::stream) {
    fd_ = open_stream(target_, flag_);
    return;
  }
  const std::string& file = target_.file;
  if (target_.exists) {
    if (::access(file.c_str(), W_OK) != 0)
      throw UsageError(fmt::format("{}: '{}' is not writable ({}); gradflow does not replace a file you "
                                   "could not write",
                                   flag_, target_.given, std::strerror(errno)));
    // Not while a sweep or a trace is still appending to it: that writer would lose its file.
    guard_fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (guard_fd_ >= 0) lock_file(guard_fd_, LockMode::shared, flag_, target_.given);
  }
  const std::string dir = dir_of(file);
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  unnamed_ = fd_ >= 0 && ::access("/proc/self/fd", X_OK) == 0;  // linkat needs /proc to name it
  if (fd_ >= 0 && !unnamed_) {
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ < 0) {  // a file system without O_TMPFILE: a hidden temporary name beside the target
    std::string temp = dir + "/." + base_of(file) + ".gradflow-XXXXXX";
    fd_ = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd_ < 0)
      throw UsageError(fmt::format("{}: cannot write '{}': cannot create a file in '{}': {}", flag_,
                                   target_.given, dir, std::strerror(errno)));
    temp_path_ = temp;
  }
  ::fchmod(fd_, target_.exists ? target_.mode : default_mode());
}

ReportSink::~ReportSink() {
  if (fd_ >= 0) ::close(fd_);
  if (guard_fd_ >= 0) ::close(guard_fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void ReportSink::write(std::string_view text) {
  if (done_) throw std::logic_error("ReportSink::write called twice");
  done_ = true;
  switch (target_.kind) {
    case TargetKind::descriptor:
      if (target_.fd == STDOUT_FILENO) write_stdout(text);
      else write_all(target_.fd, text, flag_, target_.given);
      return;
    case TargetKind::stream: {
      write_all(fd_, text, flag_, target_.given);
      const int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0 && errno != EINTR)
        throw UsageError(fmt::format("{}: writing '{}' failed: {}", flag_, target_.given, std::strerror(errno)));
      return;
    }
    case TargetKind::regular:
      write_all(fd_, text, flag_, target_.given);
      commit();
      return;
  }
}

void ReportSink::commit() {
  auto failed = [&](std::string_view what) {
    throw UsageError(fmt::format("{}: {} '{}' failed: {}", flag_, what, target_.given, std::strerror(errno)));
  };
  if (::fsync(fd_) != 0) failed("writing");
  const std::string& file = target_.file;
  if (unnamed_) {
    const std::string self = fmt::format("/proc/self/fd/{}", fd_);
    // A new file appears under its own name at once; an existing one is replaced by rename(2)
    // from a temporary name, which exists only between these two calls.
    if (!target_.exists && ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, file.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    for (int attempt = 0; temp_path_.empty(); ++attempt) {
      std::string temp = fmt::format("{}/.{}.gradflow-{}-{}", dir_of(file), base_of(file), ::getpid(), attempt);
      if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) temp_path_ = temp;
      else if (errno != EEXIST || attempt > 100) failed("creating");
    }
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), file.c_str()) != 0) failed("creating");
  temp_path_.clear();
}

}  // namespace gf
