#pragma once
// A usage or input error: bad flag value, config file, output path. main prints
// "gradflow: error: <what>" and exits with kExitUsage; nothing is written.
#include <stdexcept>
#include <string>

#include "base/utf8.h"

namespace gf {

struct UsageError : std::runtime_error {
  // Messages quote what the user gave, which may hold any bytes: they are made printable here
  // (utf8.h), so a NUL in a CSV cell cannot cut the message short through what().
  explicit UsageError(const std::string& message) : std::runtime_error(printable(message)) {}
  explicit UsageError(const char* message) : UsageError(std::string(message)) {}
};

}  // namespace gf
