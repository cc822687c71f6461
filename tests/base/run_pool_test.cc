#include "base/run_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace gf;

TEST_CASE("results are delivered in job order, for any number of workers") {
  for (const int workers : {1, 2, 3, 8}) {
    const std::size_t jobs = 40;
    std::vector<std::size_t> slot(jobs, 0), order;
    PoolCallbacks cb;
    cb.work = [&](std::size_t i) {
      // Uneven job times, so that later jobs often finish first.
      std::this_thread::sleep_for(std::chrono::microseconds(i * 7919 % 13 * 150));
      slot[i] = i * i;
    };
    cb.deliver = [&](std::size_t i) {
      CHECK(slot[i] == i * i);  // the job's result is visible when it is delivered
      order.push_back(i);
    };
    const PoolOutcome out = run_in_order(jobs, workers, cb, 4);
    CHECK(out.delivered == jobs);
    CHECK_FALSE(out.interrupted);
    std::vector<std::size_t> expected(jobs);
    for (std::size_t i = 0; i < jobs; ++i) expected[i] = i;
    CHECK(order == expected);
  }
}

TEST_CASE("a failing job stops the pool: the jobs before it are delivered, then the error") {
  std::vector<std::size_t> order;
  PoolCallbacks cb;
  cb.work = [&](std::size_t i) {
    if (i == 5) throw std::runtime_error("job 5 failed");
  };
  cb.deliver = [&](std::size_t i) { order.push_back(i); };
  CHECK_THROWS_WITH(run_in_order(20, 3, cb), "job 5 failed");
  CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("a failing delivery stops the workers and is rethrown") {
  std::size_t delivered = 0;
  PoolCallbacks cb;
  cb.work = [](std::size_t) {};
  cb.deliver = [&](std::size_t i) {
    if (i == 3) throw std::runtime_error("disk full");
    ++delivered;
  };
  CHECK_THROWS_WITH(run_in_order(100, 2, cb), "disk full");
  CHECK(delivered == 3);
}

TEST_CASE("a failing delivery also releases the workers waiting for the window") {
  PoolCallbacks cb;
  cb.work = [](std::size_t) {};
  cb.deliver = [](std::size_t i) {
    if (i != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the others fill the window of 2
    throw std::runtime_error("disk full");
  };
  CHECK_THROWS_WITH(run_in_order(100, 3, cb, 2), "disk full");
}

TEST_CASE("deliveries run one at a time, on the workers, in order") {
  std::atomic<int> inside{0}, overlaps{0};
  std::vector<std::size_t> order;
  PoolCallbacks cb;
  cb.work = [](std::size_t i) { std::this_thread::sleep_for(std::chrono::microseconds(i % 3 * 100)); };
  cb.deliver = [&](std::size_t i) {
    if (++inside != 1) ++overlaps;
    order.push_back(i);
    --inside;
  };
  run_in_order(200, 4, cb);
  CHECK(overlaps == 0);
  REQUIRE(order.size() == 200);
  for (std::size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
}

TEST_CASE("no jobs, no work") {
  PoolCallbacks cb;
  cb.work = [](std::size_t) { FAIL("no job should run"); };
  cb.deliver = [](std::size_t) { FAIL("nothing to deliver"); };
  CHECK(run_in_order(0, 4, cb).delivered == 0);
}
