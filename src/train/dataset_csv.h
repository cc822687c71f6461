#pragma once
// `gradflow train --data FILE.csv`: a header line, numeric feature columns and one label
// column (numbers or strings, each distinct value a class). Fields are comma-separated and may
// be double-quoted ("a,b", "say ""hi"""). Every malformed input is a UsageError naming the
// file, the line and the column.
#include <cstdint>
#include <string>
#include <string_view>

#include "train/dataset.h"

namespace gf {

struct CsvDataSpec {
  std::string path;
  std::string label_col;    // a header name, or a column number (1 = first, -1 = last); "" = last
  double test_frac = 0.2;   // share of rows held out, chosen at random by `seed`
  std::uint64_t seed = 0;   // --data-seed
  bool file_order = false;  // every row in x_train in file order, none held out (analyze --data)
};

// The file is read once: the rows parsed and the dataset's bytes_fnv1a64 come from the same bytes.
Dataset read_csv_dataset(const CsvDataSpec& spec);
// The same on text already in memory (bytes_fnv1a64 is of `text`); spec.path only names the file
// in messages.
Dataset parse_csv_dataset(std::string_view text, const CsvDataSpec& spec);

}  // namespace gf
