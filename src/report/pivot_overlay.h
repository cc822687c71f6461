#pragma once
// What `summarize --plot` draws over a pivot's heatmap and says above it: the mean-field edge of
// chaos where an axis is sigma-w2, and every setting the records share.
#include <optional>
#include <string>
#include <vector>

#include "batch/aggregate.h"
#include "report/chart.h"

namespace gf {

// The critical line chi_1 = 1 (Poole et al. 2016; Schoenholz et al. 2017: ordered on the side of
// small sigma_w2, chaotic beyond) in the pivot's coordinates (x: its column key, y: its row key),
// when one axis is sigma-w2 and the records fix what the line depends on: activation,
// leaky-slope, bias-init, input, and sigma-b2 unless it is the other axis. Otherwise nullopt,
// and `why` says what is missing.
std::optional<chart::Series> critical_line(const std::vector<Record>& records, const Pivot& p, std::string& why);

// "activation tanh, depth 50, width 64, batch 32, ...; seeds 0:4 averaged": the config keys that
// take one value over the records (verdict thresholds and unset options aside; the axes and
// `skip` too), then the seeds and any other key the cells average over.
std::string fixed_settings(const std::vector<Record>& records, const std::vector<std::string>& skip);

}  // namespace gf
