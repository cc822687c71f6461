#include "base/thread_team.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace gf {
namespace {

thread_local int tl_index = 0;
thread_local bool tl_in_loop = false;
// Set when this thread's team is destroyed (at its exit): a loop run later, by a destructor of
// a static object, runs on this thread alone. Trivially destructible, so still readable then.
thread_local bool tl_team_gone = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until done() holds or kSpinMicroseconds pass, and says whether it holds: first spinning
// on the core (kPauseMicroseconds, the gaps between an analysis's loops), then offering the core
// to any other thread that is ready to run (sched_yield) between looks, so that on a shared node
// the waiting costs nobody their time slice.
template <class P>
bool spin_until(P done) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto pause_end = start + std::chrono::microseconds(kPauseMicroseconds);
  const auto end = start + std::chrono::microseconds(kSpinMicroseconds);
  for (unsigned k = 0;; ++k) {
    if (done()) return true;
    if (k % 64 == 63) {
      const auto now = Clock::now();
      if (now > end) return done();
      if (now > pause_end) {
        std::this_thread::yield();
        continue;
      }
    }
    cpu_relax();
  }
}

// One caller's workers. A loop is published by bumping `epoch_`, whose high 32 bits say how many
// workers take part: a worker reads the loop's fields only when it takes part, and the caller
// waits for exactly those, so the fields never change under a reader.
// Sleeping is race-free because each side stores its own flag and then loads the other's, both
// sequentially consistent: a worker counts itself in `sleepers_` before it checks the epoch once
// more under the mutex, and the caller bumps the epoch before it reads `sleepers_` (likewise
// `caller_sleeps_` against `pending_`).
class Team {
 public:
  ~Team() {
    stop_.store(true);
    publish(workers_.size());
    for (std::thread& t : workers_) t.join();
  }

  void run(std::ptrdiff_t n, int threads, const std::function<void(std::ptrdiff_t)>& f) {
    const auto helpers = static_cast<std::size_t>(threads - 1);
    while (workers_.size() < helpers) {
      const int index = static_cast<int>(workers_.size()) + 1;
      workers_.emplace_back([this, index] { work_loop(index); });
    }
    f_ = &f;
    n_ = n;
    next_.store(0, std::memory_order_relaxed);
    pending_.store(helpers, std::memory_order_relaxed);
    publish(helpers);
    tl_in_loop = true;
    take_items();
    tl_in_loop = false;
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock lock(mutex_);
      caller_sleeps_.store(true);
      done_.wait(lock, [this] { return pending_.load() == 0; });
      caller_sleeps_.store(false);
    }
  }

 private:
  void publish(std::size_t helpers) {
    const std::uint64_t generation = (epoch_.load(std::memory_order_relaxed) + 1) & 0xffffffffu;
    epoch_.store(generation | (std::uint64_t{helpers} << 32));
    if (sleepers_.load() > 0) {
      std::lock_guard lock(mutex_);
      wake_.notify_all();
    }
  }

  void take_items() noexcept {
    for (std::ptrdiff_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n_;) (*f_)(i);
  }

  void work_loop(int index) {
    tl_index = index;
    tl_in_loop = true;
    std::uint64_t seen = 0;
    for (;;) {
      if (!spin_until([&] { return epoch_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return epoch_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
      seen = epoch_.load(std::memory_order_acquire);
      if (stop_.load()) return;
      if (static_cast<std::uint64_t>(index) > (seen >> 32)) continue;  // not in this loop
      take_items();
      if (pending_.fetch_sub(1) == 1 && caller_sleeps_.load()) {
        std::lock_guard lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  const std::function<void(std::ptrdiff_t)>* f_ = nullptr;
  std::ptrdiff_t n_ = 0;
  std::atomic<std::ptrdiff_t> next_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_sleeps_{false}, stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_, done_;
};

}  // namespace

void parallel_for(std::ptrdiff_t n, int threads, const std::function<void(std::ptrdiff_t)>& f) {
  if (threads <= 1 || n <= 1 || tl_in_loop || tl_team_gone) {
    for (std::ptrdiff_t i = 0; i < n; ++i) f(i);
    return;
  }
  // Each thread that starts loops has its own team (a sweep's runs may each start loops).
  struct Owned {
    Team team;
    ~Owned() { tl_team_gone = true; }
  };
  thread_local Owned owned;
  owned.team.run(n, static_cast<int>(std::min<std::ptrdiff_t>(threads, n)), f);  // no worker without an item
}

int team_thread_index() { return tl_index; }

}  // namespace gf
