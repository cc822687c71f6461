#include "batch/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

#include "base/terminal.h"

namespace gf {

std::string format_duration(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 1) return "under 1 s";
  if (s < 60) return fmt::format("{:.0f} s", s);
  const auto total = static_cast<long long>(s + 0.5);
  if (s < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, total / 60 % 60);
}

std::string progress_line(std::size_t done, std::size_t total, double elapsed, bool utf8) {
  constexpr int kWidth = 24;
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar;
  for (int k = 0; k < kWidth; ++k) bar += k < filled ? (utf8 ? "\u2588" : "#") : (utf8 ? "\u2591" : ".");
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::string eta =
      done == 0 ? std::string("?") : format_duration(static_cast<double>(total - done) / rate);
  return fmt::format("{} {}/{} runs  {:.1f} runs/s  ETA {}", bar, done, total, rate, eta);
}

Progress::Progress(std::size_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

void Progress::update(std::size_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = progress_line(done, total_, elapsed, utf8_locale());
  std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

void Progress::finish() { clear(); }

}  // namespace gf
