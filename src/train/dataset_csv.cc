#include "train/dataset_csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <sys/stat.h>

#include "base/errors.h"
#include "base/fnv1a.h"
#include "base/suggest.h"
#include "train/shuffle.h"

namespace gf {
namespace {

struct Row {
  std::size_t line = 0;  // 1-based, as an editor shows it
  std::vector<std::string> cells;
};

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class CsvError {
 public:
  explicit CsvError(std::string_view path) : path_(path) {}
  [[noreturn]] void at(std::size_t line, std::string_view what) const {
    throw UsageError(fmt::format("--data {}: line {}: {}", path_, line, what));
  }
  [[noreturn]] void at(std::size_t line, std::size_t col, std::string_view name, std::string_view what) const {
    throw UsageError(fmt::format("--data {}: line {}, column {} ('{}'): {}", path_, line, col, name, what));
  }
  [[noreturn]] void file(std::string_view what) const {
    throw UsageError(fmt::format("--data {}: {}", path_, what));
  }

 private:
  std::string path_;
};

// One line's fields; quotes may wrap a field (and contain commas and doubled quotes).
std::vector<std::string> split_fields(std::string_view line, std::size_t line_no, const CsvError& err) {
  std::vector<std::string> cells;
  std::size_t i = 0;
  while (true) {
    std::string cell;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      const std::size_t col = cells.size() + 1;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cell += line[i++];
      }
      if (!closed)
        err.at(line_no, fmt::format("column {}: unterminated quote (a quoted field must end on its line)", col));
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',')
        err.at(line_no, fmt::format("column {}: unexpected text after a closing quote", col));
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      cell = std::string(trim_view(line.substr(i, end - i)));
      i = end;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return cells;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool out_of_range(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc::result_out_of_range && p == s.data() + s.size();
}

// The label column's index, from a name, a 1-based number, or a negative number from the end.
std::size_t label_column(const std::string& spec, const std::vector<std::string>& header, const std::string& path) {
  const std::size_t n = header.size();
  if (spec.empty()) return n - 1;
  for (std::size_t j = 0; j < n; ++j)
    if (header[j] == spec) return j;
  long long k = 0;
  const auto [p, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), k);
  if (ec == std::errc() && p == spec.data() + spec.size()) {
    const auto sn = static_cast<long long>(n);
    if (k >= 1 && k <= sn) return static_cast<std::size_t>(k - 1);
    if (k <= -1 && k >= -sn) return static_cast<std::size_t>(sn + k);
    throw UsageError(fmt::format("--label-col {}: {} has {} columns; give a number from 1 to {} (or -1 "
                                 "for the last), or a name",
                                 spec, path, n, n));
  }
  throw UsageError(fmt::format("--label-col: no column '{}' in {}{}; its columns are {}", spec, path,
                               did_you_mean(spec, header), join(header)));
}

}  // namespace

Dataset parse_csv_dataset(std::string_view text, const CsvDataSpec& spec) {
  const CsvError err(spec.path);
  const std::uint64_t bytes_hash = fnv1a64(text);  // of every byte given, before the byte-order mark goes
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte-order mark

  std::vector<Row> rows;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == text.npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_view(line).empty()) continue;
    rows.push_back({line_no, split_fields(line, line_no, err)});
  }
  if (rows.empty()) err.file("the file is empty; expected a header line of column names, then one row per sample");

  const std::vector<std::string> header = rows.front().cells;
  const std::size_t n_cols = header.size();
  if (n_cols < 2) {
    const std::string_view first = text.substr(0, text.find('\n'));
    const bool other_sep = first.find(';') != first.npos || first.find('\t') != first.npos;
    err.at(rows.front().line,
           fmt::format("the header has one column; expected feature columns and a label column{}",
                       other_sep ? " separated by commas (this file seems to use ';' or tabs)" : ""));
  }
  for (std::size_t j = 0; j < n_cols; ++j)
    if (header[j].empty()) err.at(rows.front().line, j + 1, "", "empty column name in the header");
  if (rows.size() == 1) err.file("no data rows after the header");
  const std::size_t label = label_column(spec.label_col, header, spec.path);

  const Index n = static_cast<Index>(rows.size() - 1), d = static_cast<Index>(n_cols - 1);
  Mat<double> x(n, d);
  std::vector<std::string> labels(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const Row& row = rows[static_cast<std::size_t>(i + 1)];
    if (row.cells.size() != n_cols)
      err.at(row.line, fmt::format("{} columns, but the header has {}", row.cells.size(), n_cols));
    Index f = 0;
    for (std::size_t j = 0; j < n_cols; ++j) {
      const std::string& cell = row.cells[j];
      if (cell.empty()) err.at(row.line, j + 1, header[j], "empty cell; every cell needs a value");
      if (j == label) {
        labels[static_cast<std::size_t>(i)] = cell;
        continue;
      }
      if (out_of_range(cell))
        err.at(row.line, j + 1, header[j],
               fmt::format("'{}' is out of the range of a double (about 1e-308 to 1e308 in size)", cell));
      const std::optional<double> v = parse_number(cell);
      if (!v)
        err.at(row.line, j + 1, header[j],
               fmt::format("'{}' is not a number; feature columns must be numeric (is the label column "
                           "'{}' the right one? see --label-col)",
                           cell, header[label]));
      if (!std::isfinite(*v)) err.at(row.line, j + 1, header[j], fmt::format("'{}' is not a finite number", cell));
      x(i, f++) = *v;
    }
  }

  // Classes: the distinct labels, in numeric order when every label is a number.
  std::vector<std::string> names = labels;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const bool numeric = std::all_of(names.begin(), names.end(), [](const std::string& s) { return parse_number(s).has_value(); });
  if (numeric)
    std::stable_sort(names.begin(), names.end(),
                     [](const std::string& a, const std::string& b) { return *parse_number(a) < *parse_number(b); });
  if (names.size() < 2)
    err.file(fmt::format("the label column '{}' (column {}) holds one class only ('{}'); a classifier needs at "
                         "least two",
                         header[label], label + 1, names.front()));
  std::map<std::string, std::uint32_t> class_of;
  for (std::size_t k = 0; k < names.size(); ++k) class_of[names[k]] = static_cast<std::uint32_t>(k);

  // Held-out rows: the first round(n * test_frac) of a random permutation.
  const Index n_test = spec.file_order ? 0 : static_cast<Index>(std::llround(static_cast<double>(n) * spec.test_frac));
  if (n - n_test < 1)
    throw UsageError(fmt::format("--test-frac {:g}: {} has {} rows, which leaves none for training", spec.test_frac,
                                 spec.path, n));
  std::vector<std::uint32_t> perm(static_cast<std::size_t>(n));
  if (spec.file_order)
    std::iota(perm.begin(), perm.end(), 0u);
  else
    perm = random_permutation({spec.seed, Stream::data_split, 0}, static_cast<std::uint32_t>(n));

  Dataset out;
  out.name = spec.path;
  out.bytes_fnv1a64 = bytes_hash;
  out.features = d;
  out.classes = static_cast<Index>(names.size());
  out.class_names = names;
  for (std::size_t j = 0; j < n_cols; ++j)
    if (j != label) out.feature_names.push_back(header[j]);
  out.x_test.resize(n_test, d);
  out.x_train.resize(n - n_test, d);
  for (Index r = 0; r < n; ++r) {
    const std::uint32_t i = perm[static_cast<std::size_t>(r)];
    const std::uint32_t y = class_of[labels[i]];
    if (r < n_test) {
      out.x_test.row(r) = x.row(i);
      out.y_test.push_back(y);
    } else {
      out.x_train.row(r - n_test) = x.row(i);
      out.y_train.push_back(y);
    }
  }
  return out;
}

Dataset read_csv_dataset(const CsvDataSpec& spec) {
  struct stat st {};
  if (::stat(spec.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError(fmt::format("--data: '{}' is a directory; give a CSV file", spec.path));
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("--data: cannot read '{}': {}", spec.path, std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  return parse_csv_dataset(text.str(), spec);
}

}  // namespace gf
