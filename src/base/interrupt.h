#pragma once
// SIGINT/SIGTERM set a flag; long loops poll it between layers and runs and unwind with
// Interrupted, so output files are removed or left whole and the exit code is 130.
#include <stdexcept>

namespace gf {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handlers();
bool interrupt_requested();
void throw_if_interrupted();

}  // namespace gf
