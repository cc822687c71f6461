#pragma once
// One writer per file: a sweep's records and a training trace hold an exclusive flock(2) on
// their file for the writer's whole life, and a report about to replace a file holds a shared
// one, so nobody replaces or truncates a file another gradflow is still writing. Taken before
// any byte changes; a file that is taken is a UsageError naming the process that holds it.
#include <string>
#include <string_view>

namespace gf {

enum class LockMode { shared, exclusive };

// Locks `fd` (an open regular file) without waiting; throws UsageError naming `flag`, `path`
// and, from /proc/locks, the holder's pid and command line when it can be found.
void lock_file(int fd, LockMode mode, std::string_view flag, const std::string& path);

// "pid 123 (gradflow sweep -o c.jsonl)", or "" when no process holds a lock on fd's file.
std::string lock_holder(int fd);

}  // namespace gf
