#include "report/pivot_overlay.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "base/seed_list.h"
#include "base/suggest.h"
#include "core/enum_names.h"
#include "core/summary.h"
#include "theory/mean_field.h"

namespace gf {

using ojson = nlohmann::ordered_json;

namespace {

// The key's value when every record has the same one; nullopt when it varies or is absent.
std::optional<ojson> single_value(const std::vector<Record>& records, const std::string& key) {
  const std::vector<ojson> values = key_values(records, key);
  if (values.size() != 1) return std::nullopt;
  return values.front();
}

bool is_threshold(const std::string& key) {
  for (const ThresholdFlag& f : threshold_flags())
    if (key == f.name) return true;
  return false;
}

}  // namespace

std::optional<chart::Series> critical_line(const std::vector<Record>& records, const Pivot& p, std::string& why) {
  const bool w2_cols = p.col_key == "sigma-w2", w2_rows = p.row_key == "sigma-w2";
  if (!w2_cols && !w2_rows) return std::nullopt;
  const std::string other = w2_cols ? p.row_key : p.col_key;
  auto fixed = [&](const char* key) {
    std::optional<ojson> v = single_value(records, key);
    if (!v) why = fmt::format("no critical line: {} varies inside the cells", key);
    return v;
  };
  const auto act = fixed("activation");
  if (!act) return std::nullopt;
  const Activation* a = find_activation(act->get<std::string>());
  const auto slope = fixed("leaky-slope"), bias = fixed("bias-init"), input = fixed("input");
  if (!a || !slope || !bias || !input) return std::nullopt;
  double input_m2 = 1;
  for (const auto& e : input_kind_names())
    if (e.name == input->get<std::string>()) input_m2 = input_moments(e.value).m2;
  const Phi phi{a, slope->get<double>()};

  std::vector<double> b2s;
  if (other == "sigma-b2") {  // the line over the other axis, closely spaced where it bends
    const std::vector<ojson>& axis = w2_cols ? p.rows : p.cols;
    const double lo = axis.front().get<double>(), hi = axis.back().get<double>();
    for (int k = 0; k <= 40; ++k) b2s.push_back(lo + (hi - lo) * (k / 40.0) * (k / 40.0));
    for (const ojson& v : axis) b2s.push_back(v.get<double>());  // and at every row of the pivot
    std::sort(b2s.begin(), b2s.end());
    b2s.erase(std::unique(b2s.begin(), b2s.end()), b2s.end());
  } else {
    const auto b2 = fixed("sigma-b2");
    if (!b2) return std::nullopt;
    b2s.push_back(b2->is_null() ? 0.0 : b2->get<double>());
  }
  chart::Series line{fmt::format("critical line {}", a->name), {}, {}, 7, svg::Dash::solid};
  const std::vector<ojson>& along = w2_cols ? p.rows : p.cols;  // the other axis's values
  for (const double b2 : b2s) {
    const double w2 = critical_sigma_w2(phi, b2, bias->get<double>(), input_m2);
    if (!std::isfinite(w2)) continue;
    // sigma-b2 the other axis: the point (w2, b2); else a straight line at w2 across that axis.
    std::vector<double> others;
    if (other == "sigma-b2") others = {b2};
    else
      for (const ojson& v : along) others.push_back(v.get<double>());
    for (const double o : others) {
      line.x.push_back(w2_cols ? w2 : o);
      line.y.push_back(w2_cols ? o : w2);
    }
  }
  if (line.x.empty()) {
    why = fmt::format("no critical line: chi_1 stays on one side of 1 for {}", a->name);
    return std::nullopt;
  }
  return line;
}

std::string fixed_settings(const std::vector<Record>& records, const std::vector<std::string>& skip) {
  std::vector<std::string> parts, averaged;
  if (records.empty()) return "";
  for (const auto& [key, value] : records.front().json["config"].items()) {
    if (is_threshold(key) || key == "seed" || std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    const std::optional<ojson> v = single_value(records, key);
    if (!v) averaged.push_back(key);
    else if (!v->is_null()) parts.push_back(key + " " + value_text(*v));
  }
  std::vector<std::uint64_t> seeds;
  for (const ojson& s : key_values(records, "seed"))
    if (s.is_number_unsigned()) seeds.push_back(s.get<std::uint64_t>());
  std::string out = join(parts);
  if (seeds.size() == 1) out += fmt::format(", seed {}", seeds.front());
  else if (seeds.size() > 1) out += fmt::format("; seeds {} averaged", seeds_text(seeds));
  if (!averaged.empty()) out += "; averaged over " + join(averaged);
  return out;
}

}  // namespace gf
