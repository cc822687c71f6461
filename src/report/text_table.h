#pragma once
// A plain text table: a header and rows, columns padded to their widest cell, numbers (and any
// column marked right) aligned right. For summarize and check.
#include <string>
#include <vector>

namespace gf {

struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> right;  // per column; missing entries: left
  std::string render(const std::string& indent = "") const;
};

std::string table_number(double v);  // 4 significant digits; "-" when undefined

// One format for a whole table of numbers: fixed decimals that give the largest magnitude 4
// significant digits (0.5 and 12.07 as 0.50 and 12.07), or scientific for all when the values
// reach 1e5 or stay below 1e-3. A fmt spec such as ".2f" or ".3e".
std::string common_format(const std::vector<double>& values);
std::string format_number(double v, const std::string& spec);  // "-" when undefined

}  // namespace gf
