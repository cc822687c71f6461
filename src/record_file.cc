#include "record_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "output.h"
#include "run_record.h"

namespace gf {

RecordFile::RecordFile(const RecordFileOptions& o) : o_(o) {
  if (o.resume && o.overwrite) throw UsageError("--resume and --overwrite: give one");
  if (o.path == "-") {
    if (o.resume)
      throw UsageError("--resume needs the output file to finish: give it with -o FILE");
    if (o.csv) write_stdout(o.header);
    return;
  }
  struct stat st {};
  const bool exists = ::stat(o.path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    throw UsageError(fmt::format("--output: '{}' is a directory; give a file name", o.path));
  if (exists && !o.resume && !o.overwrite)
    throw UsageError(fmt::format("--output: '{}' already exists: add --resume to finish the sweep "
                                 "it holds, or --overwrite to start again",
                                 o.path));

  std::uint64_t keep = 0;  // bytes of whole lines
  if (exists && o.resume) {
    std::ifstream in(o.path, std::ios::binary);
    if (!in) throw UsageError(fmt::format("--resume: cannot read '{}': {}", o.path, std::strerror(errno)));
    std::string line;
    std::size_t number = 0;
    bool header_ok = !o.csv;
    while (std::getline(in, line)) {
      ++number;
      if (in.eof()) {  // no newline after it: a torn line
        torn_notice_ = fmt::format("dropped a torn last line from '{}' (line {}, {} bytes without "
                                   "a newline); its run will be redone",
                                   o.path, number, line.size());
        break;
      }
      keep += line.size() + 1;
      if (o.csv && number == 1) {
        if (line + "\n" != o.header)
          throw UsageError(fmt::format("--resume: '{}' does not start with the CSV header this "
                                       "gradflow writes (another version, or another --layers "
                                       "setting?)",
                                       o.path));
        header_ok = true;
        continue;
      }
      const std::string id = run_id_of_line(line, o.csv);
      if (id.empty())
        throw UsageError(fmt::format("--resume: line {} of '{}' is not a record of gradflow sweep "
                                     "(--format {})",
                                     number, o.path, o.csv ? "csv" : "jsonl"));
      present_.insert(id);
    }
    if (!header_ok) keep = 0;  // nothing whole but a torn header: start the file again
  }

  const int flags = O_WRONLY | O_CREAT | (exists && o.resume ? 0 : O_TRUNC);
  fd_ = ::open(o.path.c_str(), flags, 0666);
  if (fd_ < 0) throw UsageError(fmt::format("--output: cannot write '{}': {}", o.path, std::strerror(errno)));
  if (exists && o.resume) {
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0)
      throw UsageError(fmt::format("--resume: cannot cut the torn line of '{}': {}", o.path, std::strerror(errno)));
  }
  if (::lseek(fd_, 0, SEEK_END) < 0)
    throw UsageError(fmt::format("--output: cannot append to '{}': {}", o.path, std::strerror(errno)));
  if (o.csv && keep == 0) write_all(fd_, o.header, "--output", o.path);
}

RecordFile::~RecordFile() {
  if (fd_ >= 0) ::close(fd_);
}

void RecordFile::append(std::string_view lines) {
  if (is_stdout()) {
    write_stdout(lines);
    return;
  }
  write_all(fd_, lines, "--output", o_.path);
}

void RecordFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw UsageError(fmt::format("--output: writing '{}' failed: {}", o_.path, std::strerror(errno)));
}

}  // namespace gf
