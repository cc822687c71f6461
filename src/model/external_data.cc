#include "model/external_data.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>

#include "base/errors.h"

namespace gf {

namespace {

namespace fs = std::filesystem;

std::uint64_t decimal(const std::string& s, const std::string& fail_prefix, const char* key) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw UsageError(fmt::format("{}its external data {} '{}' is not a whole number of bytes", fail_prefix, key, s));
  return v;
}

}  // namespace

std::string read_external_data(const std::string& model_path, const std::string& name, const ExternalDataRef& ref,
                               std::uint64_t bytes, ExternalData& data) {
  const std::string where = fmt::format("--model: '{}': initializer '{}': ", model_path, name);
  const std::string& model_dir = data.model_dir;
  if (model_dir.empty())
    throw UsageError(where + "it is stored in an external data file, which is read only beside a model file on disk");
  const fs::path location(ref.location);
  if (ref.location.empty()) throw UsageError(where + "its external data has no location");
  if (location.is_absolute()) throw UsageError(where + fmt::format("its external data location '{}' is an absolute path; gradflow reads external data only from the model's directory", ref.location));
  for (const fs::path& part : location)
    if (part == "..")
      throw UsageError(where + fmt::format("its external data location '{}' leads out of the model's directory", ref.location));
  // A symlink inside the directory may still point out of it: compare the resolved paths.
  std::error_code ec;
  const fs::path dir = fs::canonical(model_dir, ec);
  const fs::path file = ec ? fs::path() : fs::canonical(fs::path(model_dir) / location, ec);
  if (ec) throw UsageError(where + fmt::format("cannot read its external data file '{}': {}", ref.location, ec.message()));
  const auto [d, f] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (d != dir.end() || f == file.end())
    throw UsageError(where + fmt::format("its external data file '{}' resolves to '{}', outside the model's directory", ref.location, file.string()));
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw UsageError(where + fmt::format("its external data file '{}' is not a regular file", ref.location));

  const std::uint64_t offset = decimal(ref.offset, where, "offset");
  if (!ref.length.empty() && decimal(ref.length, where, "length") != bytes)
    throw UsageError(where + fmt::format("its external data length is {} bytes, but its shape needs {}", ref.length, bytes));
  auto refuse_past_limit = [&](std::uint64_t more, std::uint64_t held) {
    if (more > data.limit - std::min(held, data.limit))
      throw UsageError(where + fmt::format("the model's external data passes {} bytes, what gradflow reads (1 GiB at "
                                           "most, and with the model file a sixth of --max-memory)",
                                           data.limit));
  };
  // The file, read whole on its first tensor (the same path names the same bytes after that).
  const std::string key = (fs::path(model_dir) / ref.location).string();
  auto held = data.bytes.find(key);
  if (held == data.bytes.end()) {
    refuse_past_limit(static_cast<std::uint64_t>(st.st_size), data.file_bytes);
    std::ifstream in(file, std::ios::binary);
    std::string whole(static_cast<std::size_t>(st.st_size), '\0');
    in.read(whole.data(), static_cast<std::streamsize>(whole.size()));
    if (!in || in.gcount() != static_cast<std::streamsize>(whole.size()))
      throw UsageError(where + fmt::format("cannot read its external data file '{}': {}", ref.location, std::strerror(errno)));
    data.file_bytes += whole.size();
    data.hash.add(whole);
    data.files.push_back(key);
    held = data.bytes.emplace(key, std::move(whole)).first;
  }
  const std::string& content = held->second;
  const std::uint64_t size = content.size();
  if (offset > size || size - offset < bytes)
    throw UsageError(where + fmt::format("its external data file '{}' has {} bytes; the tensor needs {} from offset {}",
                                         ref.location, size, bytes, offset));
  refuse_past_limit(bytes, data.tensor_bytes);
  data.tensor_bytes += bytes;
  return content.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(bytes));
}

}  // namespace gf
