#include "base/file_list.h"

#include <fmt/format.h>
#include <system_error>

#include "base/errors.h"
#include "base/suggest.h"

namespace gf {
namespace {

// Whether `name` (relative to `dir`, if given) is an existing file or directory. A NUL would cut
// the name short where the system reads it: such a text names nothing.
bool names_file(std::string_view name, const std::filesystem::path& dir) {
  if (name.empty() || name.find('\0') != std::string_view::npos) return false;
  const std::filesystem::path p{std::string(name)};
  std::error_code ec;
  return std::filesystem::exists(dir.empty() ? p : dir / p, ec);
}

std::string quoted(const std::vector<std::string>& files) {
  std::vector<std::string> q;
  for (const std::string& f : files) q.push_back("'" + f + "'");
  return join(q);
}

// Rule 2 (file_list.h): one comma separates two files, two are a comma of a name.
std::vector<std::string> read_list(std::string_view flag, std::string_view text) {
  std::vector<std::string> files(1);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != ',') {
      files.back() += text[i++];
      continue;
    }
    std::size_t run = 0;
    while (i + run < text.size() && text[i + run] == ',') ++run;
    if (run >= 3 && run % 2 == 1)
      throw UsageError(fmt::format("{}: '{}' has {} commas in a row: one comma separates two files and two are a "
                                   "comma in a name, so it is not clear which name the odd one belongs to; rename "
                                   "the file or give it alone",
                                   flag, text, run));
    files.back().append(run / 2, ',');
    if (run == 1) files.emplace_back();
    i += run;
  }
  for (const std::string& f : files)
    if (f.empty())
      throw UsageError(fmt::format("{}: '{}' has an empty element: give a file, or a comma-separated list of files "
                                   "such as a.csv,b.csv without empty elements or a trailing comma (a comma in a "
                                   "file's name is written twice)",
                                   flag, text));
  return files;
}

// `files` with elements joined again, comma and all, where that makes every part a file's name
// ("my", "model.onnx" -> "my,model.onnx"); empty when no way of joining does. A small search
// over the join points, from the end: can[i] says files[i..] splits into names, and the first
// name from i is the shortest one after which the rest splits. So where joining each element
// that names no file to the next ones works, this is that split; and it finds one that joining
// greedily misses: with files "my" and "my,model.onnx", "my,model.onnx,my" is 'my,model.onnx',
// 'my' (greedy takes the first "my" alone and is left with "model.onnx,my"). Names are looked up
// only where the rest splits, at most kLookups of them (n(n+1)/2 for n elements): a long list
// with no split gets no suggestion rather than a wait.
std::vector<std::string> mended(const std::vector<std::string>& files, const std::filesystem::path& dir) {
  constexpr std::size_t kLookups = 4096;
  const std::size_t n = files.size();
  std::vector<char> can(n + 1, 0);
  std::vector<std::size_t> end(n + 1, n);  // where the first name from i ends
  can[n] = 1;
  std::size_t lookups = 0;
  for (std::size_t i = n; i-- > 0;) {
    std::string name;
    for (std::size_t j = i; j < n; ++j) {
      if (j > i) name += ',';
      name += files[j];
      if (!can[j + 1]) continue;
      if (++lookups > kLookups) return {};
      if (names_file(name, dir)) {
        can[i] = 1;
        end[i] = j + 1;
        break;
      }
    }
  }
  if (!can[0]) return {};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; i = end[i]) {
    std::string name = files[i];
    for (std::size_t j = i + 1; j < end[i]; ++j) name += "," + files[j];
    out.push_back(std::move(name));
  }
  return out;
}

}  // namespace

std::vector<std::string> split_file_list(std::string_view flag, std::string_view text, const std::filesystem::path& dir) {
  if (names_file(text, dir)) {
    std::vector<std::string> other;
    try {
      other = read_list(flag, text);
    } catch (const UsageError&) {
      return {std::string(text)};  // no list to confuse it with
    }
    if (other.size() == 1 && other[0] == text) return other;
    for (const std::string& f : other)
      if (!names_file(f, dir)) return {std::string(text)};
    // One file either way ('c,,d' is the file c,,d, and the file c,d written as a list): no
    // spelling names the second alone, so reordering cannot help.
    const std::string for_other = other.size() == 1
                                      ? fmt::format("no spelling names '{}' alone: rename one of the two", other[0])
                                      : "for the list give its files in another order";
    throw UsageError(fmt::format("{}: '{}' is ambiguous: it names a file, and read as a list (a comma separates two "
                                 "files, two are a comma in a name) it names {} too. For the one file write each "
                                 "comma in it twice ('{}'); {}",
                                 flag, text, quoted(other), join_file_list({std::string(text)}), for_other));
  }
  std::vector<std::string> files = read_list(flag, text);
  if (files.size() > 1)
    for (const std::string& f : files)
      if (!names_file(f, dir)) {
        const std::vector<std::string> meant = mended(files, dir);
        throw UsageError(fmt::format("{}: no file '{}', and in the list of files it reads as ({}: a comma separates "
                                     "two files) '{}' names none either. A comma that belongs to a name is written "
                                     "twice{}",
                                     flag, text, quoted(files), f,
                                     meant.empty() ? std::string(" (my,,model.onnx is the file my,model.onnx)")
                                                   : fmt::format(": '{}' is {}", join_file_list(meant), quoted(meant))));
      }
  return files;
}

std::string join_file_list(const std::vector<std::string>& files) {
  std::string out;
  for (std::size_t k = 0; k < files.size(); ++k) {
    if (k) out += ',';
    for (const char ch : files[k]) out += ch == ',' ? std::string(",,") : std::string(1, ch);
  }
  return out;
}

}  // namespace gf
