#pragma once
// A small XML well-formedness check for the SVG tests: elements nest and close, attributes are
// quoted and unique, text has no raw '<' or stray '&'. Returns the elements it saw.
#include <map>
#include <string>
#include <vector>

namespace gf::test {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
};

struct XmlResult {
  bool ok = false;
  std::string error;  // with the byte offset
  std::vector<XmlElement> elements;  // in document order
  int count(const std::string& name, const std::string& attr = "", const std::string& value = "") const;
};

XmlResult check_xml(const std::string& text);

}  // namespace gf::test
