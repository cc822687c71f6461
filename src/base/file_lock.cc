#include "base/file_lock.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/errors.h"

namespace gf {
namespace {

std::string command_line(long pid) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  std::string cmd, arg;
  while (std::getline(in, arg, '\0')) {
    if (cmd.empty()) arg = arg.substr(arg.rfind('/') + 1);  // the program's name, not its path
    cmd += (cmd.empty() ? "" : " ") + arg;
  }
  if (cmd.size() > 120) cmd = cmd.substr(0, 117) + "...";
  return cmd;
}

}  // namespace

std::string lock_holder(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "";
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1310 0 EOF" (device in hex, as
  // fs/locks.c prints it); lines of waiters start with "1: ->" and are skipped.
  const std::string id = fmt::format("{:02x}:{:02x}:{}", major(st.st_dev), minor(st.st_dev), st.st_ino);
  std::ifstream in("/proc/locks");
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string number, kind, advisory, access, dev_ino;
    long pid = 0;
    if (!(words >> number >> kind) || kind == "->") continue;
    if (!(words >> advisory >> access >> pid >> dev_ino) || dev_ino != id) continue;
    if (pid <= 0 || pid == ::getpid()) continue;
    const std::string cmd = command_line(pid);
    return cmd.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {} ({})", pid, cmd);
  }
  return "";
}

void lock_file(int fd, LockMode mode, std::string_view flag, const std::string& path) {
  const int op = (mode == LockMode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  int rc = 0;
  while ((rc = ::flock(fd, op)) != 0 && errno == EINTR) {
  }
  if (rc == 0) return;
  if (errno != EWOULDBLOCK)
    throw UsageError(fmt::format("{}: cannot lock '{}': {}", flag, path, std::strerror(errno)));
  const std::string holder = lock_holder(fd);
  throw UsageError(fmt::format("{}: '{}' is being written by {}; nothing was changed. Wait for it to "
                               "finish, or give another file",
                               flag, path, holder.empty() ? "another process" : "another process, " + holder));
}

}  // namespace gf
