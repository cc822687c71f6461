#pragma once
// A list of files in one text: sweep's and check's --model, --data and --arch, where
// "val.csv,test.csv" is an axis of two runs. A file's name may hold any byte but NUL (and '/'
// between its parts): commas, colons and brackets too. A text is read so:
//   1. A text that names an existing file (or directory) is that one file, whatever it holds:
//      `--model my,model.onnx` and `--model 'run]1:a.onnx'` are one file each.
//   2. Otherwise a comma separates files, and a comma inside a name is written twice:
//      "my,,model.onnx,b.onnx" is my,model.onnx and b.onnx. Colons and brackets mean nothing
//      here (a file has no ranges and no per-layer lists).
// Refused (UsageError naming the flag, the text and what is allowed), where it stays ambiguous:
//   - a text that names a file and, read as a list, other files that all exist too;
//   - a list of two or more files of which one names no file (a name's comma taken for a
//     separator: the message shows the name with its commas written twice);
//   - an empty element, and an odd run of three or more commas (",,," could end one name with a
//     comma or start the next with one).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gf {

// How the type name of an option that takes such a list ends ("FILE.onnx[,...]"): a --config
// file's relative names are resolved by the same rule for those options (config_file.cc).
inline constexpr std::string_view kFileListType = "[,...]";

// The files `text` names. Names relative to `dir` when it is given (a --config file's
// directory), else to the working directory; they come out as written, not joined to `dir`.
std::vector<std::string> split_file_list(std::string_view flag, std::string_view text,
                                         const std::filesystem::path& dir = {});

// The text that rule 2 reads back as `files`: each comma in a name written twice, the names
// joined by commas. split_file_list returns `files` for it unless the joined text itself names
// an existing file (rule 1, or refused as ambiguous) or an element ends or starts with a comma
// where two names meet (refused).
std::string join_file_list(const std::vector<std::string>& files);

}  // namespace gf
