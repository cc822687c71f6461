#include "train/dataset_builtin.h"

#include <cmath>
#include <fmt/format.h>

#include "base/errors.h"
#include "core/rng.h"

namespace gf {
namespace {

// Sub-streams (the `layer` of Stream::data) of every draw a built-in dataset makes.
enum DataDraw : std::uint32_t {
  kSpiralPosition = 0,  // spirals: t of sample i, uniform on [0, 1)
  kNoise = 1,           // spirals: angle jitter; blobs: offset from the centre (normal)
  kCentres = 2,         // blobs: the centre of each class
  kTeacherInput = 3,    // teacher: x of sample i
  kTeacherLayer = 10    // teacher: weights of layer l at kTeacherLayer + l (head: l = depth + 1)
};

// How far each spiral arm turns, from the centre (t = 0) to its end (t = 1), in radians.
constexpr double kSpiralTurn = 1.5 * M_PI;

void spirals(const BuiltinDataSpec& s, double noise, Index n, Mat<double>& x, std::vector<std::uint32_t>& y) {
  Vec<double> t(n), z(n);
  fill_uniform<double>({s.seed, Stream::data, kSpiralPosition}, 0, t.data(), static_cast<std::size_t>(n), 0, 1);
  fill_normal<double>({s.seed, Stream::data, kNoise}, 0, z.data(), static_cast<std::size_t>(n));
  const auto K = static_cast<double>(s.classes);
  for (Index i = 0; i < n; ++i) {
    const double theta = 2 * M_PI * static_cast<double>(y[i]) / K + kSpiralTurn * t[i] + noise * z[i];
    x(i, 0) = t[i] * std::cos(theta);
    x(i, 1) = t[i] * std::sin(theta);
  }
}

void blobs(const BuiltinDataSpec& s, double noise, Index d, Index n, Mat<double>& x,
           const std::vector<std::uint32_t>& y) {
  RowMat<double> centres(s.classes, d);  // row k: the centre of class k, N(0, 2^2 I)
  fill_normal<double>({s.seed, Stream::data, kCentres}, 0, centres.data(),
                      static_cast<std::size_t>(centres.size()), 2.0);
  RowMat<double> offsets(n, d);
  fill_normal<double>({s.seed, Stream::data, kNoise}, 0, offsets.data(), static_cast<std::size_t>(offsets.size()),
                      noise);
  for (Index i = 0; i < n; ++i) x.row(i) = centres.row(y[i]) + offsets.row(i);
}

// A random tanh network labels N(0, I) inputs by the argmax of its outputs. Weights
// N(0, 2/fan_in): tanh just past the edge of chaos, so the boundary is curved but smooth.
void teacher(const BuiltinDataSpec& s, Index d, Index n, Mat<double>& x, std::vector<std::uint32_t>& y) {
  RowMat<double> xr(n, d);
  fill_normal<double>({s.seed, Stream::data, kTeacherInput}, 0, xr.data(), static_cast<std::size_t>(xr.size()));
  x = xr;
  Mat<double> a = x;
  for (Index l = 1; l <= s.teacher_depth + 1; ++l) {
    const bool head = l == s.teacher_depth + 1;
    const Index fan_in = a.cols(), fan_out = head ? s.classes : kTeacherWidth;
    RowMat<double> W(fan_out, fan_in);
    const double std = std::sqrt((head ? 1.0 : 2.0) / static_cast<double>(fan_in));
    fill_normal<double>({s.seed, Stream::data, static_cast<std::uint32_t>(kTeacherLayer + l)}, 0, W.data(),
                        static_cast<std::size_t>(W.size()), std);
    Mat<double> h = a * W.transpose();
    a = head ? h : Mat<double>(h.array().tanh());
  }
  for (Index i = 0; i < n; ++i) {
    Index k = 0;
    a.row(i).maxCoeff(&k);
    y[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(k);
  }
}

const BuiltinData kBuiltin[] = {
    {"spirals", "K interleaved spiral arms in the plane (K = --classes)", 2, true, 0.2,
     "std of the angle jitter, radians"},
    {"blobs", "a Gaussian mixture: one blob per class, centres N(0, 4 I)", 2, false, 1.0,
     "std of each blob"},
    {"teacher", "labels from a random tanh network of --teacher-depth layers, inputs N(0, I)", 10,
     false, 0.0, "not used"},
};

}  // namespace

std::span<const BuiltinData> builtin_datasets() { return kBuiltin; }

const BuiltinData* find_builtin_data(std::string_view name) {
  for (const BuiltinData& b : kBuiltin)
    if (b.name == name) return &b;
  return nullptr;
}

Dataset make_builtin_dataset(const BuiltinDataSpec& s) {
  const BuiltinData* info = find_builtin_data(s.name);
  if (!info) throw UsageError(fmt::format("--data: unknown built-in dataset '{}'", s.name));
  const Index d = s.input_dim > 0 ? s.input_dim : info->default_input_dim;
  if (info->fixed_input_dim && d != info->default_input_dim)
    throw UsageError(fmt::format("--input-dim {}: the {} dataset has {} features; leave --input-dim unset",
                                 d, s.name, info->default_input_dim));
  if (s.noise && s.name == "teacher")
    throw UsageError("--noise: the teacher dataset has no noise parameter; its labels are exact");
  const double noise = s.noise.value_or(info->default_noise);
  const Index n = s.n_train + s.n_test;

  Mat<double> x(n, d);
  std::vector<std::uint32_t> y(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(i % s.classes);
  if (s.name == "spirals") spirals(s, noise, n, x, y);
  else if (s.name == "blobs") blobs(s, noise, d, n, x, y);
  else teacher(s, d, n, x, y);

  Dataset out;
  out.name = s.name;
  out.features = d;
  out.classes = s.classes;
  out.x_train = x.topRows(s.n_train);
  out.x_test = x.bottomRows(s.n_test);
  out.y_train.assign(y.begin(), y.begin() + s.n_train);
  out.y_test.assign(y.begin() + s.n_train, y.end());
  for (Index j = 0; j < d; ++j) out.feature_names.push_back(fmt::format("x{}", j));
  for (Index k = 0; k < s.classes; ++k) out.class_names.push_back(std::to_string(k));
  return out;
}

}  // namespace gf
