#pragma once
// A progress line on stderr: done/total, runs per second and time left, redrawn at most ten
// times a second. Only when stderr is a terminal (and not --quiet): logs and pipes stay clean.
#include <chrono>
#include <cstddef>
#include <string>

namespace gf {

class Progress {
 public:
  Progress(std::size_t total, bool enabled);
  void update(std::size_t done);  // cheap to call often
  void clear();                   // erase the line before other messages; update() redraws
  void finish();                  // leaves the screen as it was before the first draw

 private:
  std::size_t total_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "42 s", "3 min 20 s", "2 h 05 min"
// The progress line without the terminal escapes, for tests.
std::string progress_line(std::size_t done, std::size_t total, double elapsed_seconds, bool utf8);

}  // namespace gf
