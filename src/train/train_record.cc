#include "train/train_record.h"

#include <fmt/format.h>

namespace gf {
std::string_view run_end_name(RunEnd e) {
  switch (e) {
    case RunEnd::completed: return "completed";
    case RunEnd::stopped_at_target: return "stopped_at_target";
    case RunEnd::diverged: return "diverged";
    case RunEnd::interrupted: return "interrupted";
  }
  return "?";
}

std::string TrainRun::label(bool with_seed) const {
  std::string out = activation;
  if (lr_in_label) out += fmt::format(" lr {:g}", lr);
  if (with_seed) out += fmt::format(" seed {}", seed);
  return out;
}

}  // namespace gf
