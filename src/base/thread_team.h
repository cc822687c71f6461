#pragma once
// The threads of gradflow's parallel loops: the caller and up to threads - 1 workers that it
// keeps between loops.
//
// Why not OpenMP: libgomp's idle threads spin for a long time before they sleep
// (GOMP_SPINCOUNT, 300000 pauses by default), and an analysis passes about 80 barriers. When a
// node runs more threads than it has cores (GNU parallel or Slurm jobs sharing it), a spinning
// thread burns the time slice the thread it waits for needs: two processes of 30 default
// analyses with -j 2 on 2 cores took ten times as long as one alone (docs/performance.md, "Threads
// that sleep"). Here a waiting thread keeps its core only briefly (kPauseMicroseconds: the gaps
// between an analysis's loops and the imbalance within them), then offers it to any thread ready
// to run between looks, and sleeps after kSpinMicroseconds.
// The workers do not survive fork(): a child process must not call parallel_for (gradflow never
// forks without exec).
#include <cstddef>
#include <functional>

namespace gf {

// How long a waiting thread spins before it sleeps, and for how much of that it keeps the core
// (after which it yields it between looks: thread_team.cc). Long, because a thread that slept
// lost far more than its wake-up: a warm d20 w256 analysis after 50 ms idle took 19 to 28 ms
// instead of 12 when the workers slept after 50 us or 2 ms (docs/performance.md).
inline constexpr int kSpinMicroseconds = 100000;
inline constexpr int kPauseMicroseconds = 50;

// Calls f(i) for every i in [0, n), each once, on up to `threads` threads (the caller is one of
// them), handing out the i in increasing order as threads become free (OpenMP's
// schedule(dynamic, 1)); returns when all are done. Called from inside such a loop, it runs the
// i in order on the calling thread. f must not throw (if it does, the program terminates, as
// with OpenMP).
void parallel_for(std::ptrdiff_t n, int threads, const std::function<void(std::ptrdiff_t)>& f);

// Inside parallel_for's f: 0 on the calling thread, 1 to threads - 1 on the workers (an index
// for per-thread scratch). 0 outside. In a nested loop it stays the outer loop's index (the
// nested loop runs on that thread), so scratch is sized by the outermost loop's thread count.
int team_thread_index();

}  // namespace gf
