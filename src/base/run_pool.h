#pragma once
// A pool of worker threads that runs jobs 0..n-1 and hands their results back in job order:
// deliver(i) is called as soon as job i and every job before it are done, by the worker that
// completed that prefix (one delivery at a time, never concurrently with tick).
// That is what lets a sweep append each record the moment it can, in grid order, for any -j.
//
// On SIGINT/SIGTERM (interrupt.h) no new job starts; jobs in flight finish, or drop out when
// the engine notices the interrupt between layers; every job of the completed prefix is still
// delivered. A job that throws anything else stops the pool the same way, and the exception
// is rethrown once the prefix is delivered.
#include <cstddef>
#include <functional>

namespace gf {

struct PoolOutcome {
  std::size_t delivered = 0;  // jobs 0..delivered-1 were delivered
  bool interrupted = false;
};

struct PoolCallbacks {
  std::function<void(std::size_t)> work;     // on a worker; stores its result for deliver
  std::function<void(std::size_t)> deliver;  // on a worker, in order, one at a time
  std::function<void(std::size_t)> tick;     // on the caller, now and then (never during deliver): jobs delivered so far
};

// Workers never run more than `window` jobs ahead of the next delivery, so results waiting
// behind a slow job stay bounded in memory.
PoolOutcome run_in_order(std::size_t jobs, int workers, const PoolCallbacks& cb,
                         std::size_t window = 0 /* 0: 8 per worker */);

}  // namespace gf
