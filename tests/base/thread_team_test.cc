#include "base/thread_team.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <mutex>
#include <thread>
#include <vector>

using namespace gf;

namespace {
// Each i of [0, n) once: counts per i, for the given thread count.
std::vector<int> counts_of(std::ptrdiff_t n, int threads) {
  std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
  parallel_for(n, threads, [&](std::ptrdiff_t i) { hits[static_cast<std::size_t>(i)].fetch_add(1); });
  std::vector<int> out;
  for (const auto& h : hits) out.push_back(h.load());
  return out;
}
}  // namespace

TEST_CASE("parallel_for calls f once for every index, for any thread count") {
  for (const int threads : {1, 2, 3, 4, 2, 8, 1})  // the team grows, and then takes part of itself
    for (const std::ptrdiff_t n : {0, 1, 2, 3, 7, 64, 1000})
      CHECK(counts_of(n, threads) == std::vector<int>(static_cast<std::size_t>(n), 1));
}

TEST_CASE("the items run at the same time on different threads, indexed 0 to threads - 1") {
  constexpr int kThreads = 3;
  std::atomic<int> arrived{0};
  std::mutex m;
  std::set<int> indices;
  bool all_met = true;
  // Each of the first kThreads items waits until all of them have started: this returns only if
  // they truly run at once (or fails after 20 s instead of hanging).
  parallel_for(kThreads, kThreads, [&](std::ptrdiff_t) {
    arrived.fetch_add(1);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (arrived.load() < kThreads && std::chrono::steady_clock::now() < end) std::this_thread::yield();
    std::lock_guard lock(m);
    all_met = all_met && arrived.load() == kThreads;
    indices.insert(team_thread_index());
  });
  CHECK(all_met);
  CHECK(indices == std::set<int>{0, 1, 2});
  CHECK(team_thread_index() == 0);
}

TEST_CASE("threads that slept are woken: loops apart by more than the spin, and a slow worker") {
  const auto spin = std::chrono::microseconds(kSpinMicroseconds) + std::chrono::milliseconds(20);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(spin);  // the workers go to sleep between loops
    std::atomic<int> done{0};
    std::atomic<bool> worker_started{false};
    // The caller's item waits for the worker to start the other; the worker's item outlasts the
    // caller's spin, so the caller sleeps until the worker wakes it.
    parallel_for(2, 2, [&](std::ptrdiff_t) {
      if (team_thread_index() != 0) {
        worker_started.store(true);
        std::this_thread::sleep_for(spin);
      } else {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!worker_started.load() && std::chrono::steady_clock::now() < end) std::this_thread::yield();
      }
      done.fetch_add(1);
    });
    CHECK(worker_started.load());
    CHECK(done.load() == 2);
  }
}

TEST_CASE("a loop inside a loop runs on the thread that calls it") {
  std::atomic<int> inner{0}, wrong_thread{0};
  parallel_for(8, 2, [&](std::ptrdiff_t) {
    const int outer_index = team_thread_index();
    parallel_for(5, 2, [&](std::ptrdiff_t) {
      inner.fetch_add(1);
      if (team_thread_index() != outer_index) wrong_thread.fetch_add(1);
    });
  });
  CHECK(inner.load() == 40);
  CHECK(wrong_thread.load() == 0);
}

TEST_CASE("several threads may each run loops at once (each has its own team)") {
  std::vector<std::thread> callers;
  std::atomic<int> bad{0};
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&bad] {
      for (int round = 0; round < 200; ++round)
        if (counts_of(37, 2) != std::vector<int>(37, 1)) bad.fetch_add(1);
    });
  for (std::thread& t : callers) t.join();
  CHECK(bad.load() == 0);
}
