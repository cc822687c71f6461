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

}  // namespace gf
