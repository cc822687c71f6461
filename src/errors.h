#pragma once
// A usage or input error: bad flag value, config file, output path. main prints
// "gradflow: error: <what>" and exits with kExitUsage; nothing is written.
#include <stdexcept>
#include <string>

namespace gf {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace gf
