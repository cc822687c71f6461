#include "run_pool.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "interrupt.h"

namespace gf {

PoolOutcome run_in_order(std::size_t jobs, int workers, const PoolCallbacks& cb, std::size_t window) {
  workers = std::max(1, std::min<int>(workers, static_cast<int>(std::max<std::size_t>(jobs, 1))));
  if (window == 0) window = 8 * static_cast<std::size_t>(workers);

  std::mutex m;
  std::condition_variable changed;           // a job finished, or delivery moved on
  std::vector<char> done(jobs, 0);           // 1 finished, 2 dropped
  std::size_t next_job = 0, next_delivery = 0;
  bool stop = false;
  std::exception_ptr failure;

  auto worker = [&] {
    std::unique_lock lock(m);
    for (;;) {
      changed.wait(lock, [&] { return stop || next_job >= jobs || next_job < next_delivery + window; });
      if (stop || next_job >= jobs || interrupt_requested()) return;
      const std::size_t i = next_job++;
      lock.unlock();
      char state = 1;
      try {
        cb.work(i);
      } catch (const Interrupted&) {
        state = 2;
      } catch (...) {
        state = 2;
        lock.lock();
        if (!failure) failure = std::current_exception();
        stop = true;
        lock.unlock();
      }
      lock.lock();
      done[i] = state;
      changed.notify_all();
    }
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < workers; ++t) pool.emplace_back(worker);

  PoolOutcome out;
  std::exception_ptr delivery_failure;
  {
    std::unique_lock lock(m);
    for (;;) {
      if (interrupt_requested() && !stop) {
        stop = true;
        changed.notify_all();
      }
      if (next_delivery < jobs && done[next_delivery] == 1) {
        const std::size_t i = next_delivery;
        lock.unlock();
        try {
          cb.deliver(i);
        } catch (...) {
          delivery_failure = std::current_exception();
        }
        lock.lock();
        if (delivery_failure) {
          stop = true;
          changed.notify_all();
          break;
        }
        next_delivery = i + 1;
        out.delivered = next_delivery;
        changed.notify_all();
        continue;
      }
      if (next_delivery >= jobs) break;
      // Stopped: wait for the jobs in flight, then deliver what is contiguous and end.
      if (stop) {
        const bool busy = std::any_of(done.begin() + static_cast<std::ptrdiff_t>(next_delivery),
                                      done.begin() + static_cast<std::ptrdiff_t>(next_job),
                                      [](char s) { return s == 0; });
        if (!busy && (next_delivery >= next_job || done[next_delivery] != 1)) break;
      }
      if (cb.tick) {
        lock.unlock();
        cb.tick(next_delivery);
        lock.lock();
      }
      changed.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  for (std::thread& t : pool) t.join();
  if (cb.tick) cb.tick(out.delivered);
  if (delivery_failure) std::rethrow_exception(delivery_failure);
  if (failure) std::rethrow_exception(failure);
  out.interrupted = out.delivered < jobs && interrupt_requested();
  return out;
}

}  // namespace gf
