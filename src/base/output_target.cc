#include "base/output_target.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "base/errors.h"
#include "base/interrupt.h"

namespace gf {
namespace {

// The descriptor a path names without being a file of its own: /dev/stdout, /dev/fd/3,
// /proc/self/fd/3. -1 for any other path.
int descriptor_of(const std::string& p) {
  if (p == "/dev/stdin") return 0;
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  std::string_view rest;
  const std::string own = fmt::format("/proc/{}/fd/", ::getpid());
  for (const std::string_view prefix : {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/"),
                                        std::string_view("/proc/thread-self/fd/"), std::string_view(own)})
    if (p.starts_with(prefix)) rest = std::string_view(p).substr(prefix.size());
  int fd = -1;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), fd);
  return !rest.empty() && ec == std::errc() && end == rest.data() + rest.size() ? fd : -1;
}

std::string read_link(const std::string& p) {
  std::string buf(PATH_MAX, '\0');
  const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
  if (n < 0) return "";
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

[[noreturn]] void cannot(std::string_view flag, const std::string& given, std::string_view why) {
  throw UsageError(fmt::format("{}: cannot write '{}': {}", flag, given, why));
}

}  // namespace

std::string dir_of(const std::string& p) {
  const std::size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

OutputTarget resolve_output(const std::string& path, std::string_view flag) {
  OutputTarget t;
  t.given = path;
  if (path.empty()) throw UsageError(fmt::format("{}: give a file name (or - for stdout)", flag));
  if (path == "-") {
    t.kind = TargetKind::descriptor;
    t.fd = STDOUT_FILENO;
    return t;
  }
  std::string p = path;
  for (int hops = 0;; ++hops) {
    if (const int fd = descriptor_of(p); fd >= 0) {
      const int fl = ::fcntl(fd, F_GETFL);
      if (fl < 0) cannot(flag, path, fmt::format("descriptor {} is not open", fd));
      if ((fl & O_ACCMODE) == O_RDONLY) cannot(flag, path, fmt::format("descriptor {} is open for reading only", fd));
      t.kind = TargetKind::descriptor;
      t.fd = fd;
      return t;
    }
    if (p.starts_with("/proc/")) {  // another process's descriptor: write through whatever it is
      t.kind = TargetKind::stream;
      t.file = path;
      return t;
    }
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno != ENOENT) cannot(flag, path, std::strerror(errno));
      struct stat dir {};
      if (::stat(dir_of(p).c_str(), &dir) != 0) cannot(flag, path, std::strerror(errno));
      if (!S_ISDIR(dir.st_mode)) cannot(flag, path, std::strerror(ENOTDIR));
      t.file = p;  // a new file (or the missing end of a link, as `>` would create it)
      return t;
    }
    if (S_ISLNK(st.st_mode)) {
      if (hops >= 40) cannot(flag, path, "more than 40 symbolic links in a row (a loop?)");
      const std::string target = read_link(p);
      if (target.empty()) cannot(flag, path, fmt::format("cannot read the link '{}'", p));
      p = target.front() == '/' ? target : dir_of(p) + "/" + target;
      continue;
    }
    if (S_ISDIR(st.st_mode))
      throw UsageError(fmt::format("{}: '{}' is a directory; give a file name", flag, path));
    if (!S_ISREG(st.st_mode)) {  // a device node, FIFO or socket
      t.kind = TargetKind::stream;
      t.file = path;
      return t;
    }
    t.file = p;
    t.exists = true;
    t.mode = st.st_mode & 07777;
    t.dev = st.st_dev;
    t.ino = st.st_ino;
    return t;
  }
}

bool same_target(const OutputTarget& a, const OutputTarget& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == TargetKind::descriptor) return a.fd == b.fd;
  if (a.exists && b.exists) return a.dev == b.dev && a.ino == b.ino;
  return a.file == b.file;
}

void refuse_overwriting_inputs(const OutputTarget& out, std::string_view out_flag, const std::vector<InputFile>& inputs) {
  if (out.kind != TargetKind::regular || !out.exists) return;  // a new file is no input
  for (const InputFile& in : inputs) {
    struct stat st {};
    if (in.path.empty() || ::stat(in.path.c_str(), &st) != 0) continue;
    if (st.st_dev == out.dev && st.st_ino == out.ino)
      throw UsageError(fmt::format("{} '{}' is the file {} '{}' reads: writing the report there would replace it; give "
                                   "another file",
                                   out_flag, out.given, in.flag, in.path));
  }
}

int open_stream(const OutputTarget& t, std::string_view flag) {
  // O_NONBLOCK: a FIFO without a reader fails with ENXIO instead of blocking, so the wait below
  // can notice Ctrl-C. Writes block again once it is open.
  for (;;) {
    const int fd = ::open(t.file.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    if (errno == EINTR) continue;
    if (errno != ENXIO) cannot(flag, t.given, std::strerror(errno));
    struct stat st {};
    if (::stat(t.file.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode))
      cannot(flag, t.given, "a socket or a device without a driver cannot be written to");
    throw_if_interrupted();  // a FIFO: wait for its reader, as the shell's `>` does
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace gf
