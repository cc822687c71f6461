// `gradflow train`'s flags, parsed in-process by the whole App, land in TrainOptions.
#include <doctest/doctest.h>

#include "base/errors.h"
#include "base/seed_list.h"
#include "cli/cli.h"
#include "parse_cli.h"

using namespace gf;
using gf::test::parse;

TEST_CASE("train's flags fill TrainOptions") {
  auto cli = make_cli();
  parse(*cli, {"train", "-a", "relu,gelu", "-d", "3", "-w", "32", "-b", "16", "--optimizer", "adam", "--lr", "0.01",
               "--beta2", "0.99", "--weight-decay", "1e-4", "--seed", "1:3", "--data", "blobs", "--n-train", "500",
               "--n-test", "0", "--noise", "0.5", "--input", "positive", "--steps", "700", "--log-every", "7",
               "--target-error", "0.1", "--eval-batch", "200", "--stop-at-target", "--trace", "t.jsonl",
               "--format", "json"});
  const TrainOptions& o = cli->train;
  const TrainConfig& c = o.config;
  CHECK(c.net.activations == std::vector<std::string>{"relu", "gelu"});
  CHECK(c.net.depth == 3);
  CHECK(c.net.batch == 16);
  CHECK(c.net.input == InputKind::positive);
  CHECK(c.optimizer.kind == OptimizerKind::adam);
  CHECK(c.lrs == std::vector<double>{0.01});
  CHECK(c.optimizer.beta2 == 0.99);
  CHECK(c.optimizer.weight_decay == 1e-4);
  CHECK(parse_seeds(o.seeds) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(c.data.data == "blobs");
  CHECK(c.data.n_train == 500);
  CHECK(c.data.n_test == 0);
  CHECK(*c.data.noise == 0.5);
  CHECK(c.steps == 700);
  CHECK(c.log_every == 7);
  CHECK(c.target_error == 0.1);
  CHECK(c.eval_batch == 200);
  CHECK(c.stop_at_target);
  CHECK(o.trace == "t.jsonl");
  CHECK(o.format == "json");
}

TEST_CASE("train's defaults: a small net on three spirals, plain SGD") {
  auto cli = make_cli();
  parse(*cli, {"train"});
  const TrainConfig& c = cli->train.config;
  CHECK(c.net.depth == 4);
  CHECK(c.net.width == std::vector<Index>{64});
  CHECK(c.net.batch == 64);
  CHECK(c.net.classes == 3);
  CHECK(c.data.data == "spirals");
  CHECK(c.optimizer.kind == OptimizerKind::sgd);
  CHECK(c.optimizer.lr == 0.05);
  CHECK(c.steps == 2000);
  CHECK(c.resolved_log_every() == 40);
  CHECK(c.target_error == 0.25);
  // analyze's defaults are untouched by train's.
  CHECK(cli->analyze.config.depth == 20);
  CHECK(cli->analyze.config.batch == 256);
}

TEST_CASE("parse_seeds and seeds_text") {
  CHECK(parse_seeds("7") == std::vector<std::uint64_t>{7});
  CHECK(parse_seeds("0:3") == std::vector<std::uint64_t>{0, 1, 2, 3});
  CHECK(parse_seeds("5,1,2:3") == std::vector<std::uint64_t>{5, 1, 2, 3});
  CHECK_THROWS_AS(parse_seeds("1,1"), UsageError);
  CHECK_THROWS_AS(parse_seeds(""), UsageError);
  CHECK_THROWS_AS(parse_seeds("-1"), UsageError);
  CHECK(seeds_text({0, 1, 2, 3}) == "0:3");
  CHECK(seeds_text({4}) == "4");
  CHECK(seeds_text({1, 5}) == "1,5");
}
