#pragma once
// The human-readable report of `gradflow train`: a row per run (steps and seconds to the target,
// final loss and errors, speed-up, dead units, top-layer saturation, sign coherence), the spread
// over seeds when there are several, then a sentence for everything that changed.
#include <string>

#include "base/terminal.h"
#include "train/train.h"

namespace gf {

std::string train_table(const TrainResult& result, const Style& style);

}  // namespace gf
