#pragma once
// Every exit code gradflow can return, in one place, so scripts can rely on them.
namespace gf {
enum ExitStatus : int {
  kExitOk = 0,            // finished; the report is on stdout or in the file
  kExitFailure = 1,       // an analysis ran but a check on it failed (check, train gates)
  kExitUsage = 2,         // bad flag, value, config file or output path: nothing was written
  kExitInternal = 70,     // a bug in gradflow, never an input's fault (sysexits' EX_SOFTWARE)
  kExitInterrupted = 130  // SIGINT/SIGTERM: stopped cleanly, partial files removed or kept whole
};
}  // namespace gf
