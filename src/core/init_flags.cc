#include "core/init_flags.h"

#include <fmt/format.h>

#include "base/errors.h"
#include "core/params.h"

namespace gf {

void check_init_flags(const InitFlags& f) {
  if (f.sigma_w2 && f.weight_std) throw UsageError("--sigma-w2 and --weight-std both set the weight scale: give one");
  const bool named_init = f.init != "auto";
  if (named_init && f.weight_std)
    throw UsageError(fmt::format("--init {} and --weight-std both set the weights: give one", f.init));
  if (named_init && f.sigma_w2 && f.init != "orthogonal")
    throw UsageError(fmt::format("--init {} and --sigma-w2 both set the weight variance: give one "
                                 "(--sigma-w2 combines only with --init orthogonal, as its gain^2)",
                                 f.init));
  if (f.gain && (f.sigma_w2 || f.weight_std))
    throw UsageError(fmt::format("--gain and --{} both set the weight scale: give one",
                                 f.sigma_w2 ? "sigma-w2" : "weight-std"));
}

WeightInit resolve_init(const InitFlags& f, const Activation& act, const NetworkSpec& s) {
  WeightInit w;
  if (f.weight_std) {
    w.label = fmt::format("weight_std={:g}", *f.weight_std);
    w.weight_std = f.weight_std;
    return w;
  }
  if (f.sigma_w2 && f.init != "orthogonal") {
    w.label = fmt::format("sigma_w2={:g}", *f.sigma_w2);
    w.sigma_w2 = f.sigma_w2;
    return w;
  }
  w.fixup = f.init == kFixup;
  w.per_layer = f.init == "auto" || w.fixup;
  w.scheme = find_init(w.per_layer ? act.auto_init : std::string_view(f.init));
  w.dist = w.scheme->dist;
  NetworkSpec drawn = s;
  drawn.weight_init = w;
  const InitSchemesText name = init_schemes_text(drawn);
  w.label = w.fixup           ? fmt::format("fixup ({})", name.text)
            : name.per_layer ? fmt::format("auto ({})", name.text)
                             : name.text;
  w.gain = f.gain;
  if (f.gain) w.label += fmt::format(" gain={:g}", *f.gain);
  if (f.sigma_w2) {  // orthogonal with a gain
    w.sigma_w2 = f.sigma_w2;
    w.label += fmt::format(" sigma_w2={:g}", *f.sigma_w2);
  }
  return w;
}

double square_sigma_w2(const WeightInit& w, Index width) {
  const auto n = static_cast<double>(width);
  if (w.weight_std) return n * *w.weight_std * *w.weight_std;
  if (w.sigma_w2 && w.dist != WeightDist::orthogonal) return *w.sigma_w2;
  return n * w.variance(width, width);
}

}  // namespace gf
