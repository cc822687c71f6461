#include "xml_check.h"

#include <cctype>

namespace gf::test {

int XmlResult::count(const std::string& name, const std::string& attr, const std::string& value) const {
  int n = 0;
  for (const XmlElement& e : elements) {
    if (e.name != name) continue;
    if (!attr.empty()) {
      auto it = e.attributes.find(attr);
      if (it == e.attributes.end() || (!value.empty() && it->second != value)) continue;
    }
    ++n;
  }
  return n;
}

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.'; }

// Checks the entity references in s (attribute value or text).
bool entities_ok(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') return false;
    if (s[i] != '&') continue;
    const std::size_t semi = s.find(';', i);
    if (semi == std::string::npos) return false;
    const std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent != "amp" && ent != "lt" && ent != "gt" && ent != "quot" && ent != "apos" && (ent.empty() || ent[0] != '#'))
      return false;
    i = semi;
  }
  return true;
}

}  // namespace

XmlResult check_xml(const std::string& t) {
  XmlResult r;
  std::vector<std::string> stack;
  std::size_t i = 0;
  bool root_seen = false;
  auto fail = [&](const std::string& why) {
    r.ok = false;
    r.error = why + " at byte " + std::to_string(i);
    return r;
  };
  if (t.rfind("<?xml", 0) == 0) {
    const std::size_t e = t.find("?>");
    if (e == std::string::npos) return fail("unterminated XML declaration");
    i = e + 2;
  }
  while (i < t.size()) {
    if (t[i] != '<') {
      const std::size_t next = t.find('<', i);
      const std::string text = t.substr(i, next == std::string::npos ? std::string::npos : next - i);
      if (!entities_ok(text)) return fail("bad character or entity in text");
      if (stack.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos) return fail("text outside the root");
      if (next == std::string::npos) break;
      i = next;
      continue;
    }
    if (t.compare(i, 4, "<!--") == 0) {
      const std::size_t e = t.find("-->", i);
      if (e == std::string::npos) return fail("unterminated comment");
      i = e + 3;
      continue;
    }
    if (t.compare(i, 2, "</") == 0) {
      std::size_t j = i + 2;
      while (j < t.size() && name_char(t[j])) ++j;
      const std::string name = t.substr(i + 2, j - i - 2);
      while (j < t.size() && std::isspace(static_cast<unsigned char>(t[j]))) ++j;
      if (j >= t.size() || t[j] != '>') return fail("bad end tag");
      if (stack.empty() || stack.back() != name) return fail("end tag </" + name + "> does not match");
      stack.pop_back();
      i = j + 1;
      continue;
    }
    std::size_t j = i + 1;
    while (j < t.size() && name_char(t[j])) ++j;
    XmlElement el;
    el.name = t.substr(i + 1, j - i - 1);
    if (el.name.empty()) return fail("empty element name");
    if (stack.empty() && root_seen) return fail("second root element");
    while (true) {
      while (j < t.size() && std::isspace(static_cast<unsigned char>(t[j]))) ++j;
      if (j >= t.size()) return fail("unterminated tag");
      if (t[j] == '>' || t.compare(j, 2, "/>") == 0) break;
      std::size_t k = j;
      while (k < t.size() && name_char(t[k])) ++k;
      const std::string attr = t.substr(j, k - j);
      if (attr.empty() || k >= t.size() || t[k] != '=') return fail("bad attribute in <" + el.name + ">");
      const char q = t[k + 1];
      if (q != '"' && q != '\'') return fail("unquoted attribute " + attr);
      const std::size_t end = t.find(q, k + 2);
      if (end == std::string::npos) return fail("unterminated attribute " + attr);
      const std::string value = t.substr(k + 2, end - k - 2);
      if (!entities_ok(value)) return fail("bad character in attribute " + attr);
      if (!el.attributes.emplace(attr, value).second) return fail("duplicate attribute " + attr);
      j = end + 1;
    }
    const bool empty = t[j] == '/';
    r.elements.push_back(el);
    root_seen = true;
    if (!empty) stack.push_back(el.name);
    i = j + (empty ? 2 : 1);
  }
  if (!stack.empty()) return fail("<" + stack.back() + "> is never closed");
  if (!root_seen) return fail("no root element");
  r.ok = true;
  return r;
}

}  // namespace gf::test
