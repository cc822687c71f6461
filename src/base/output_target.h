#pragma once
// What a file option (-o, --plot, --junit, --trace, check --update's baseline) points at, found
// before anything is written, so that gradflow never replaces what is not a plain file:
//   "-", /dev/stdout, /dev/stderr, /dev/fd/N   the open descriptor itself (stdout: "-")
//   a device node, FIFO or socket               written through, as the shell's `>` would
//   a symlink                                   followed to the file it names: the link stays
//   a regular file, or no file yet              replaced atomically, or appended to under a lock
// A directory, a dangling chain of more than 40 links, or an unreadable directory is a UsageError
// naming the flag.
#include <string>
#include <string_view>
#include <vector>
#include <sys/types.h>

namespace gf {

enum class TargetKind { descriptor, stream, regular };

struct OutputTarget {
  TargetKind kind = TargetKind::regular;
  std::string given;    // as the user typed it, for messages
  std::string file;     // regular: where the symlinks end (may not exist yet); stream: `given`
  int fd = -1;          // descriptor: 1 for "-" and /dev/stdout, N for /dev/fd/N
  bool exists = false;  // regular: the file is there already
  mode_t mode = 0;      // regular and exists: its permission bits, kept when it is replaced
  dev_t dev = 0;        // regular and exists: identity, to spot two options naming one file
  ino_t ino = 0;
};

OutputTarget resolve_output(const std::string& path, std::string_view flag);

// The folder part of a path: "." for "x", "/" for "/x".
std::string dir_of(const std::string& p);

// Two options that would write the same place ("-o x --plot x", through links or not).
bool same_target(const OutputTarget& a, const OutputTarget& b);

// One of a command's input files, by the flag that named it ("" when not given).
struct InputFile {
  std::string flag, path;
};

// Refuses an output that is one of `inputs` (the same file, through any links): `-o model.onnx`
// would replace the model with the report. UsageError naming both flags.
void refuse_overwriting_inputs(const OutputTarget& out, std::string_view out_flag, const std::vector<InputFile>& inputs);

// Opens a stream target for writing: a FIFO waits for its reader (Ctrl-C still works). Throws
// UsageError naming the flag.
int open_stream(const OutputTarget& t, std::string_view flag);

}  // namespace gf
