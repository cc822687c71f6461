#pragma once
// Runs the real gradflow binary for tests: arguments, optional stdin and environment, captured
// stdout/stderr and the exit code (128 + N if killed by signal N).
#include <map>
#include <string>
#include <vector>

namespace gf::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
  long max_rss_kib = 0;  // the child's peak resident memory (getrusage)
};

struct ProcessOptions {
  std::string stdin_text;
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  std::string cwd;
  bool close_stdout_early = false;          // stdout is a pipe whose reader closes at once
  long file_size_limit = 0;                 // RLIMIT_FSIZE in bytes (0: none): a "full disk"
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& o = {});
ProcessResult run_gradflow(const std::vector<std::string>& args, const ProcessOptions& o = {});

// The arguments a, then b: a command line and what one run adds to it.
std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b);

std::string temp_dir();  // a fresh directory under /tmp, for one test
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
bool file_exists(const std::string& path);

}  // namespace gf::test
