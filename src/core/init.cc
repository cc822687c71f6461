#include "core/init.h"

#include <Eigen/QR>
#include <cmath>

#include "base/parallel.h"

namespace gf {
namespace {

const InitScheme kSchemes[] = {
    {"xavier_normal", "Glorot & Bengio 2010: keeps variance forward and backward for tanh-like units",
     "2/(fan_in+fan_out)", WeightDist::normal,
     [](double fi, double fo) { return 2.0 / (fi + fo); }},
    {"xavier_uniform", "Glorot & Bengio 2010, uniform on [-a,a]", "2/(fan_in+fan_out)",
     WeightDist::uniform, [](double fi, double fo) { return 2.0 / (fi + fo); }},
    {"he_normal", "He et al. 2015: doubles the variance to make up for relu's zeroed half",
     "2/fan_in", WeightDist::normal, [](double fi, double) { return 2.0 / fi; }, 2},
    {"he_uniform", "He et al. 2015, uniform on [-a,a]", "2/fan_in", WeightDist::uniform,
     [](double fi, double) { return 2.0 / fi; }, 2},
    {"lecun_normal", "LeCun et al. 1998: unit gain; selu's self-normalising init", "1/fan_in",
     WeightDist::normal, [](double fi, double) { return 1.0 / fi; }},
    {"orthogonal",
     "Saxe et al. 2014: a random (semi-)orthogonal matrix, every singular value 1 (gain^2 from "
     "--sigma-w2)",
     "1/max(fan_in,fan_out)", WeightDist::orthogonal,
     [](double fi, double fo) { return 1.0 / std::max(fi, fo); }},
};

// Q of a QR factorisation of W's Gaussian draws, with the signs of R's diagonal folded in so
// that Q is Haar-distributed (Mezzadri 2007). Done in f64, then rounded once.
template <class T>
void orthogonalize(RowMatRef<T> W, double gain) {
  const bool tall = W.rows() >= W.cols();
  Eigen::MatrixXd G;
  if (tall) G = W.template cast<double>();
  else G = W.transpose().template cast<double>();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ() * Eigen::MatrixXd::Identity(G.rows(), G.cols());
  const Eigen::MatrixXd& R = qr.matrixQR();
  for (Index j = 0; j < Q.cols(); ++j)
    if (R(j, j) < 0) Q.col(j) = -Q.col(j);
  Q *= gain;
  if (tall) W = Q.cast<T>();
  else W = Q.transpose().cast<T>();
}

}  // namespace

std::span<const InitScheme> init_schemes() { return kSchemes; }

const InitScheme* find_init(std::string_view name) {
  for (const InitScheme& s : kSchemes)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<std::string> init_names(bool residual) {
  std::vector<std::string> names{"auto"};
  for (const InitScheme& s : kSchemes) names.emplace_back(s.name);
  if (residual) names.emplace_back(kFixup);
  return names;
}

double WeightInit::orthogonal_gain() const { return gain ? *gain : std::sqrt(sigma_w2.value_or(1.0)); }

double WeightInit::variance(Index fan_in, Index fan_out) const {
  if (weight_std) return *weight_std * *weight_std;
  if (dist == WeightDist::orthogonal)
    return orthogonal_gain() * orthogonal_gain() / static_cast<double>(std::max(fan_in, fan_out));
  if (sigma_w2) return *sigma_w2 / static_cast<double>(fan_in);
  const double v = scheme->variance_of(static_cast<double>(fan_in), static_cast<double>(fan_out));
  return gain ? *gain * *gain * v / scheme->gain2 : v;
}

template <class T>
void draw_weights(const WeightInit& init, std::uint64_t seed, Stream stream, std::uint32_t layer,
                  RowMatRef<T> W, int threads) {
  const RandomStream rs{seed, stream, layer};
  const Index fan_out = W.rows(), fan_in = W.cols();
  const double var = init.variance(fan_in, fan_out);
  // Row blocks of W are contiguous runs of draws; each is drawn on its own.
  for_each_block_or_stop(fan_out, threads, [&](Index b) {
    const Index r0 = block_begin(b), rows = block_size(b, fan_out);
    T* out = W.data() + r0 * fan_in;
    const auto first = static_cast<std::uint64_t>(r0 * fan_in);
    const auto n = static_cast<std::size_t>(rows * fan_in);
    if (init.dist == WeightDist::uniform) {
      const T a = static_cast<T>(std::sqrt(3.0 * var));
      fill_uniform<T>(rs, first, out, n, -a, a);
    } else if (init.dist == WeightDist::orthogonal) {
      fill_normal<T>(rs, first, out, n, T(1));
    } else {
      fill_normal<T>(rs, first, out, n, static_cast<T>(std::sqrt(var)));
    }
  });
  if (init.dist == WeightDist::orthogonal) orthogonalize<T>(W, init.orthogonal_gain());
}

template <class T>
void draw_biases(const BiasInit& init, std::uint64_t seed, std::uint32_t layer, VecRef<T> b) {
  if (init.sigma_b2) {
    fill_normal<T>({seed, Stream::biases, layer}, 0, b.data(), static_cast<std::size_t>(b.size()),
                   static_cast<T>(std::sqrt(*init.sigma_b2)));
  } else {
    b.setConstant(static_cast<T>(init.constant));
  }
}

template void draw_weights<float>(const WeightInit&, std::uint64_t, Stream, std::uint32_t,
                                  RowMatRef<float>, int);
template void draw_weights<double>(const WeightInit&, std::uint64_t, Stream, std::uint32_t,
                                   RowMatRef<double>, int);
template void draw_biases<float>(const BiasInit&, std::uint64_t, std::uint32_t, VecRef<float>);
template void draw_biases<double>(const BiasInit&, std::uint64_t, std::uint32_t, VecRef<double>);

}  // namespace gf
