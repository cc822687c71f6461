// gradflow: how gradients flow through deep networks. main only wires; see cli.cc.
#include "cli/cli.h"

int main(int argc, char** argv) {
  auto cli = gf::make_cli();
  return gf::run_cli(*cli, argc, argv);
}
