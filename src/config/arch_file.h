#pragma once
// --arch FILE.json: a whole network as a list, for what the flags cannot say (per-layer width,
// activation and its parameter, norm, dropout; residual blocks of any layers):
//
//   {"layers": [
//     {"width": 512, "activation": "gelu", "norm": "layer", "dropout": 0.1},
//     {"block": [{"width": 512, "activation": "relu"}, {"width": 512}], "scale": 0.5,
//      "norm": "layer", "norm-position": "pre"},
//     {"width": 128, "activation": "leaky_relu", "activation-param": 0.2}]}
//
// A layer: width (required), activation (required; a block's last layer is linear and may give
// only identity), activation-param (0.01), norm (none, batch, layer, rms) and norm-eps (1e-5),
// dropout (0). A block: "block", its K >= 2 layers at the stream's width (their own norms not
// allowed), "scale" alpha (1; 0 is ReZero, learned in train), norm, norm-position (pre), norm-eps.
// The head over --classes follows the last layer. Messages name the entry
// ("layers[3].activation: unknown value 'relux' (allowed: ...)").
#include <string>

#include "core/analysis.h"

namespace gf {

// The file's network into c: its ops and entries (c.arch_ops, c.arch_entries), and depth,
// width and activations to label the run. When the file is a network the flags can say (a
// plain stack of one activation, or equal residual blocks), the flags are set instead and the
// ops left empty, so that the run and its document are those of the flag form. Throws
// UsageError starting "--arch FILE: ".
void load_arch(const std::string& path, AnalysisConfig& c);

// The same from the file's text (tests).
void load_arch_text(const std::string& text, const std::string& path, AnalysisConfig& c);

}  // namespace gf
