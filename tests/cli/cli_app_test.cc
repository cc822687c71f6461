// The whole App, built and parsed in-process: options land in the structs the commands read.
#include <doctest/doctest.h>

#include "cli/cli.h"
#include "config/validators.h"
#include "parse_cli.h"

using namespace gf;
using gf::test::parse;

TEST_CASE("analyze's flags fill AnalysisConfig") {
  auto cli = make_cli();
  parse(*cli, {"analyze", "-a", "relu,gelu", "-d", "7", "-w", "8,9,10,11,12,13,14", "--input", "positive",
               "--loss", "random", "--init", "orthogonal", "--sigma-w2", "2", "--sigma-b2", "0.1",
               "--dtype", "f64", "--max-memory", "1.5G", "--weights", "regenerate", "--format", "csv"});
  const AnalysisConfig& c = cli->analyze.config;
  CHECK(c.activations == std::vector<std::string>{"relu", "gelu"});
  CHECK(c.depth == 7);
  CHECK(c.width.size() == 7);
  CHECK(c.input == InputKind::positive);
  CHECK(c.loss == LossKind::random);
  CHECK(c.init == "orthogonal");
  CHECK(*c.sigma_w2 == 2.0);
  CHECK(*c.sigma_b2 == 0.1);
  CHECK(c.dtype == Dtype::f64);
  CHECK(c.max_memory == std::uint64_t(1.5 * 1024 * 1024 * 1024));
  CHECK(c.weights == WeightsMode::regenerate);
  CHECK(cli->analyze.format == "csv");
  validate(c);
}

TEST_CASE("defaults are the founding story") {
  auto cli = make_cli();
  parse(*cli, {});
  const AnalysisConfig& c = cli->analyze.config;
  CHECK(c.activations == std::vector<std::string>{"sigmoid", "tanh", "relu"});
  CHECK(c.depth == 20);
  CHECK(c.widths() == std::vector<Index>(21, 256));
  CHECK(c.batch == 256);
  CHECK(cli->analyze.format == "table");
}

TEST_CASE("byte sizes and suggestions") {
  CHECK(parse_byte_size("8G") == 8ull << 30);
  CHECK(parse_byte_size("512MiB") == 512ull << 20);
  CHECK(parse_byte_size("100") == 100);
  CHECK(parse_byte_size("2kb") == 2048);
  CHECK_THROWS(parse_byte_size("8X"));
  CHECK_THROWS(parse_byte_size("-1G"));
  CHECK(closest_name("tahn", {"sigmoid", "tanh", "relu"}) == "tanh");
  CHECK(closest_name("quux", {"sigmoid", "tanh", "relu"}).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}
