#include "base/run_pool.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/interrupt.h"

namespace gf {

PoolOutcome run_in_order(std::size_t jobs, int workers, const PoolCallbacks& cb, std::size_t window) {
  workers = std::max(1, std::min<int>(workers, static_cast<int>(std::max<std::size_t>(jobs, 1))));
  if (window == 0) window = 8 * static_cast<std::size_t>(workers);

  std::mutex m;                   // guards everything below
  std::mutex in_order;            // held while deliver or tick runs: one at a time
  std::condition_variable slots;  // workers: delivery moved on (the window), or stop
  std::condition_variable ended;  // the caller: a worker has left
  std::vector<char> done(jobs, 0);  // 1 finished, 2 dropped
  std::size_t next_job = 0, next_delivery = 0;
  int running = workers;
  bool delivering = false, stop = false;
  std::exception_ptr failure, delivery_failure;

  // The worker that finishes the job at the head of the line delivers it, and every finished
  // job behind it, itself: no other thread has to wake up for a result. Called with `lock`
  // held; if another worker is delivering, it will find this job too.
  auto deliver_ready = [&](std::unique_lock<std::mutex>& lock) {
    if (delivering) return;
    delivering = true;
    // Also once stopped (a failed job, Ctrl-C): the finished prefix is still delivered.
    while (!delivery_failure && next_delivery < jobs && done[next_delivery] == 1) {
      const std::size_t i = next_delivery;
      lock.unlock();
      std::exception_ptr error;
      {
        std::lock_guard order(in_order);
        try {
          cb.deliver(i);
        } catch (...) {
          error = std::current_exception();
        }
      }
      lock.lock();
      if (error) {
        delivery_failure = error;
        stop = true;
        slots.notify_all();  // workers waiting for the window must see the stop
        break;
      }
      next_delivery = i + 1;
      slots.notify_all();
    }
    delivering = false;
  };

  auto worker = [&] {
    std::unique_lock lock(m);
    for (;;) {
      slots.wait(lock, [&] { return stop || next_job >= jobs || next_job < next_delivery + window; });
      if (stop || next_job >= jobs || interrupt_requested()) break;
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
        slots.notify_all();
        lock.unlock();
      }
      lock.lock();
      done[i] = state;
      deliver_ready(lock);
    }
    --running;
    slots.notify_all();
    ended.notify_all();
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < workers; ++t) pool.emplace_back(worker);
  {
    std::unique_lock lock(m);
    while (running > 0) {
      if (interrupt_requested() && !stop) {
        stop = true;
        slots.notify_all();
      }
      if (cb.tick) {
        const std::size_t delivered = next_delivery;
        lock.unlock();
        {
          std::lock_guard order(in_order);
          cb.tick(delivered);
        }
        lock.lock();
      }
      ended.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  for (std::thread& t : pool) t.join();

  PoolOutcome out;
  out.delivered = next_delivery;
  if (cb.tick) cb.tick(out.delivered);
  if (delivery_failure) std::rethrow_exception(delivery_failure);
  if (failure) std::rethrow_exception(failure);
  out.interrupted = out.delivered < jobs && interrupt_requested();
  return out;
}

}  // namespace gf
