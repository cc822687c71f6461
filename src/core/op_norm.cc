#include "core/op_norm.h"

#include <cmath>
#include <optional>
#include <fmt/format.h>

#include "base/errors.h"
#include "base/parallel.h"
#include "base/reduce.h"
#include "core/dropout.h"
#include "core/layer.h"
#include "core/op_dense.h"

namespace gf {

namespace {

// Calls f(i0, rows) for each block of rows of a (B, n) matrix: the per-sample norms' unit of
// work. Each row's sums run over the units in order, so no thread count changes them.
template <class F>
void for_each_row_block(Index B, int threads, F&& f) {
  for_each_block(B, threads, [&](Index blk) { f(block_begin(blk), block_size(blk, B)); });
}

}  // namespace

NormRunning::NormRunning(const NetworkSpec& s) {
  mean.resize(static_cast<std::size_t>(s.depth() + 2));
  var.resize(mean.size());
  for (Index l = 1; l <= s.depth(); ++l) {
    const LayerOp& op = s.op(l);
    if (op.norm != NormKind::batch) continue;
    // The normalised tensor: a pre-norm branch's input (the stream, n_{l-1}), else the op's output.
    const Index n = op.kind == OpKind::branch_in ? s.width(l - 1) : op.width;
    mean[static_cast<std::size_t>(l)] = Vec<double>::Zero(n);
    var[static_cast<std::size_t>(l)] = Vec<double>::Ones(n);
  }
}

bool NormRunning::any() const {
  for (const Vec<double>& m : mean)
    if (m.size() > 0) return true;
  return false;
}

template <class T>
void norm_forward(NormKind kind, double eps, Mat<T>& h, Vec<double>& inv_sigma, int threads, const RunningRef* run) {
  const Index B = h.rows(), n = h.cols();
  if (kind == NormKind::affine) {  // x = h: the affine map is all in g and beta
    inv_sigma.setOnes();
    return;
  }
  if (kind == NormKind::batch) {  // per unit, over the batch
    for_each_block(n, threads, [&](Index blk) {
      for (Index j = block_begin(blk); j < block_begin(blk) + block_size(blk, n); ++j) {
        T* c = h.col(j).data();
        if (run && run->use) {  // evaluation: the running statistics, the same for every sample
          const double mean = (*run->mean)[j], inv = 1 / std::sqrt((*run->var)[j] + eps);
          inv_sigma[j] = inv;
          for (Index i = 0; i < B; ++i) c[i] = static_cast<T>((c[i] - mean) * inv);
          continue;
        }
        double mean = 0, var = 0;
        for (Index i = 0; i < B; ++i) mean += static_cast<double>(c[i]);
        mean /= static_cast<double>(B);
        for (Index i = 0; i < B; ++i) var += (c[i] - mean) * (c[i] - mean);
        const double inv = 1 / std::sqrt(var / static_cast<double>(B) + eps);
        inv_sigma[j] = inv;
        if (run) {  // a training step: unit j's running mean and unbiased variance, on this thread only
          const double m = run->momentum, unbiased = var / static_cast<double>(B > 1 ? B - 1 : 1);
          (*run->mean)[j] = (1 - m) * (*run->mean)[j] + m * mean;
          (*run->var)[j] = (1 - m) * (*run->var)[j] + m * unbiased;
        }
        for (Index i = 0; i < B; ++i) c[i] = static_cast<T>((c[i] - mean) * inv);
      }
    });
    return;
  }
  // per sample, over the units; rms: no mean taken out
  for_each_row_block(B, threads, [&](Index i0, Index rows) {
    double mean[kBlockCols] = {}, var[kBlockCols] = {};
    if (kind == NormKind::layer) {
      for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < rows; ++i) mean[i] += static_cast<double>(h(i0 + i, j));
      for (Index i = 0; i < rows; ++i) mean[i] /= static_cast<double>(n);
    }
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < rows; ++i) var[i] += (h(i0 + i, j) - mean[i]) * (h(i0 + i, j) - mean[i]);
    for (Index i = 0; i < rows; ++i) inv_sigma[i0 + i] = 1 / std::sqrt(var[i] / static_cast<double>(n) + eps);
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < rows; ++i) h(i0 + i, j) = static_cast<T>((h(i0 + i, j) - mean[i]) * inv_sigma[i0 + i]);
  });
}

// d x / d h = (1 / sigma) (I - 1/N - x x^T / N) over each group of N (a unit's batch, a sample's
// units); rms: (1 / sigma) (I - x x^T / N).
template <class T>
void norm_backward(NormKind kind, const Mat<T>& x, const Vec<double>& inv_sigma, Eigen::Ref<Mat<T>> d_x,
                   int threads) {
  if (kind == NormKind::affine) return;  // d h = d x
  const Index B = x.rows(), n = x.cols();
  const bool centred = kind != NormKind::rms;
  if (kind == NormKind::batch) {
    for_each_block(n, threads, [&](Index blk) {
      for (Index j = block_begin(blk); j < block_begin(blk) + block_size(blk, n); ++j) {
        T* d = d_x.col(j).data();
        const T* xj = x.col(j).data();
        double m1 = 0, m2 = 0;
        for (Index i = 0; i < B; ++i) m1 += static_cast<double>(d[i]), m2 += static_cast<double>(d[i]) * xj[i];
        m1 /= static_cast<double>(B);
        m2 /= static_cast<double>(B);
        for (Index i = 0; i < B; ++i) d[i] = static_cast<T>(inv_sigma[j] * (d[i] - m1 - xj[i] * m2));
      }
    });
    return;
  }
  for_each_row_block(B, threads, [&](Index i0, Index rows) {
    double m1[kBlockCols] = {}, m2[kBlockCols] = {};
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < rows; ++i) {
        const double d = d_x(i0 + i, j);
        if (centred) m1[i] += d;
        m2[i] += d * x(i0 + i, j);
      }
    for (Index i = 0; i < rows; ++i) m1[i] /= static_cast<double>(n), m2[i] /= static_cast<double>(n);
    for (Index j = 0; j < n; ++j)
      for (Index i = 0; i < rows; ++i)
        d_x(i0 + i, j) = static_cast<T>(inv_sigma[i0 + i] * (d_x(i0 + i, j) - m1[i] - x(i0 + i, j) * m2[i]));
  });
}

namespace {

// Slot l's running statistics in this pass, if it has a BatchNorm and the pass keeps them.
template <class T>
std::optional<RunningRef> running_of(const Pass<T>& pass, Index l) {
  NormRunning* r = pass.policy.running;
  if (!r || pass.s.op(l).norm != NormKind::batch || r->mean[static_cast<std::size_t>(l)].size() == 0) return {};
  return RunningRef{&r->mean[static_cast<std::size_t>(l)], &r->var[static_cast<std::size_t>(l)], r->momentum,
                    pass.policy.running_stats()};
}

template <class T>
void norm_forward_of(Pass<T>& pass, Index l, Mat<T>& h) {
  const LayerOp& op = pass.s.op(l);
  const std::optional<RunningRef> run = running_of(pass, l);
  norm_forward(op.norm, op.norm_eps, h, pass.ws.norm_inv_sigma[l], pass.policy.threads, run ? &*run : nullptr);
}

// u = g x + beta, per unit.
template <class T, class U>
void affine(const Params<T>& p, Index l, const Mat<T>& x, U&& u) {
  u = (x.array().rowwise() * p.gain[l].transpose().array()).rowwise() + p.shift[l].transpose().array();
}

// Backward of u = g N(h) + beta, with d_u in `d`: train's d g, d beta, then d h written over d.
template <class T>
void affine_norm_backward(Pass<T>& pass, Index l, Eigen::Ref<Mat<T>> d) {
  const LayerOp& op = pass.s.op(l);
  const Mat<T>& x = pass.ws.norm_x[l];
  if (Params<T>* grads = pass.policy.grads) {  // d_g = sum over the batch of d_u x, d_beta of d_u
    for (Index j = 0; j < d.cols(); ++j) {
      double dg = 0, db = 0;
      for (Index i = 0; i < d.rows(); ++i) dg += static_cast<double>(d(i, j)) * x(i, j), db += d(i, j);
      grads->gain[l][j] = static_cast<T>(dg);
      grads->shift[l][j] = static_cast<T>(db);
    }
  }
  const bool analyze = pass.policy.analyze();
  const double before = analyze ? reduce::sum_squares(d.data(), d.size()) : 0.0;
  d.array().rowwise() *= pass.p.gain[l].transpose().array();  // d_x = g d_u
  if (running_of(pass, l) && pass.policy.running_stats())  // fixed statistics: d_h = d_x / sigma
    d.array().rowwise() *= pass.ws.norm_inv_sigma[l].transpose().array().template cast<T>();
  else
    norm_backward<T>(op.norm, x, pass.ws.norm_inv_sigma[l], d, pass.policy.threads);
  if (analyze && before > 0)  // the gradient's gain across the norm (and its gain g)
    pass.out.layers[static_cast<std::size_t>(l - 1)].norm_grad_ratio_log10 =
        0.5 * std::log10(reduce::sum_squares(d.data(), d.size()) / before);
}

}  // namespace

template <class T>
bool norm_input_forward(Pass<T>& pass, Index l) {
  Workspace<T>& ws = pass.ws;
  ws.norm_x[l] = ws.A[l - 1];
  norm_forward_of(pass, l, ws.norm_x[l]);
  affine(pass.p, l, ws.norm_x[l], ws.norm_u[l]);
  ws.A[l - 1].swap(ws.norm_u[l]);  // the dense layer reads u where it reads its input
  const bool more = dense_forward(pass, l);
  ws.A[l - 1].swap(ws.norm_u[l]);
  return more;
}

template <class T>
bool norm_input_backward(Pass<T>& pass, Index l) {
  Workspace<T>& ws = pass.ws;
  ws.A[l - 1].swap(ws.norm_u[l]);  // d W = d h^T u
  const bool more = dense_backward(pass, l);
  ws.A[l - 1].swap(ws.norm_u[l]);
  if (!more) return false;
  affine_norm_backward<T>(pass, l, as_matrix(ws.grad_a, ws.batch, pass.s.width(l - 1)));
  return true;
}

template <class T>
void norm_output_forward(Pass<T>& pass, Index l) {
  Workspace<T>& ws = pass.ws;
  ws.norm_x[l] = ws.A[l];
  norm_forward_of(pass, l, ws.norm_x[l]);
  affine(pass.p, l, ws.norm_x[l], ws.A[l]);
}

template <class T>
void norm_output_backward(Pass<T>& pass, Index l) {
  affine_norm_backward<T>(pass, l, as_matrix(pass.ws.grad_a, pass.ws.batch, pass.s.width(l)));
}

template <class T>
bool dense_norm_forward(Pass<T>& pass, Index l) {
  const NetworkSpec& s = pass.s;
  const Params<T>& p = pass.p;
  Workspace<T>& ws = pass.ws;
  const LayerOp& op = s.op(l);
  const int threads = pass.policy.threads;
  const SaturationTest sat = saturation_test(*op.activation, op.activation_param, s.sat_eps, s.saturated_when);
  const auto W = layer_weights(s, p, l, ws.W_scratch);
  const Index n = op.width;
  Mat<T>& x = ws.norm_x[l];
  for_each_group_or_stop(n, threads, [&](const BlockGroup& g) {  // h by group, then ||W rows||^2 by block
    auto h = x.middleCols(g.c0, g.cols);
    h.noalias() = ws.A[l - 1] * W.middleRows(g.c0, g.cols).transpose();
    h.rowwise() += p.b[l].segment(g.c0, g.cols).transpose();
    for (Index blk = g.first; blk < g.last; ++blk) {
      const Index c0 = block_begin(blk), cols = block_size(blk, n);
      double w2 = 0;
      for (Index r = c0; r < c0 + cols; ++r) w2 += reduce::sum_squares(W.row(r).data(), W.cols());
      ws.sumsq_parts[blk] = w2;
    }
  });
  norm_forward_of(pass, l, x);
  for_each_block_or_stop(n, threads, [&](Index blk) {  // u = g x + beta over D[l], then phi(u)
    const Index c0 = block_begin(blk), cols = block_size(blk, n);
    auto u = ws.D[l].middleCols(c0, cols);
    u = (x.middleCols(c0, cols).array().rowwise() * p.gain[l].segment(c0, cols).transpose().array()).rowwise() +
        p.shift[l].segment(c0, cols).transpose().array();
    ws.forward_parts[blk] = activation_forward_block<T>(*op.activation, op.activation_param, sat, u,
                                                        ws.A[l].middleCols(c0, cols));
    ws.forward_parts[blk].weight_sumsq = ws.sumsq_parts[blk];
  });
  ForwardPartial total;
  if (!finish_forward(pass, l, total)) return false;
  dropout_forward(pass, l);
  return true;
}

// analyze: d_u is renormalised as every layer's gradient is (op_dense.cc), its norm carried in
// pass.scale; the layer's grad_preact_log10 is ||d loss / d u||, at the activation's input as
// for a plain layer, and norm_grad_ratio_log10 (affine_norm_backward) how much the norm's
// backward changes it.
template <class T>
bool dense_norm_backward(Pass<T>& pass, Index l) {
  Workspace<T>& ws = pass.ws;
  const Index B = ws.batch, n = pass.s.width(l);
  LayerStats& st = pass.out.layers[static_cast<std::size_t>(l - 1)];
  auto d = as_matrix(ws.grad_a, B, n);  // d_a, then d_u and d_h, in place
  d.array() *= ws.D[l].array();

  double u_log10 = kNaN;
  T unscale = 1;
  if (pass.policy.analyze()) {
    double sumsq = 0;
    for (Index j = 0; j < n; ++j) sumsq += reduce::sum_squares(d.col(j).data(), B);
    if (!std::isfinite(sumsq)) {
      pass.out.overflow_layer = l;
      return false;
    }
    if (sumsq == 0) {  // every unit flat on every sample: nothing flows below
      pass.out.zero_grad_layer = l;
      return false;
    }
    if (pass.scale > -kInf) u_log10 = 0.5 * std::log10(sumsq) + pass.scale;
    const double norm = std::sqrt(sumsq);
    unscale = static_cast<T>(1 / norm);
    if (std::isfinite(unscale)) pass.scale += std::log10(norm);
    else unscale = 1;  // 1 / norm beyond T's range: d_u stays as it is, and so does the scale
  }
  if (unscale != T(1)) d *= unscale;
  affine_norm_backward<T>(pass, l, d);

  // The dense layer's backward reads d_h as d_a times the slopes; x is spent (the next forward
  // writes it again), so it lends the unit slopes, and D[l] keeps phi'(u).
  Mat<T>& ones = ws.norm_x[l];
  ones.setOnes();
  ws.D[l].swap(ones);
  const bool more = dense_backward(pass, l);
  ws.D[l].swap(ones);
  if (pass.policy.analyze()) st.grad_preact_log10 = u_log10;  // the activation's input, as without a norm
  return more;
}

namespace {

void refuse_batch_norm(const LayerOp& op, Index l) {
  if (op.norm == NormKind::batch)
    throw UsageError(fmt::format("--jacobian: op {} has --norm batch, which couples the samples of the batch, so "
                                 "one input's Jacobian d a_L / d x is not defined; give --norm layer, rms or none",
                                 l));
}

// One sample's normalisation in f64, from its definition (norm_forward's, per sample): h (n)
// becomes x, and 1 / sigma is returned.
double normalise_sample(NormKind kind, double eps, Vec<double>& h) {
  if (kind == NormKind::affine) return 1;
  const double n = static_cast<double>(h.size());
  const double mean = kind == NormKind::layer ? h.sum() / n : 0.0;
  h.array() -= mean;
  const double inv_sigma = 1 / std::sqrt(h.squaredNorm() / n + eps);
  h *= inv_sigma;
  return inv_sigma;
}

// M (n, cols) <- diag(row_scale) (I - 1 1^T / n - x x^T / n) M (rms: no 1 1^T / n term): each
// column on its own, so any blocking of the columns gives the same bits. row_scale = g / sigma
// (times phi'(u) in dense_norm).
void apply_norm_jacobian(NormKind kind, const Vec<double>& x, const Vec<double>& row_scale,
                         Eigen::Ref<Mat<double>> M) {
  if (kind == NormKind::affine) {  // diag(g)
    M.array().colwise() *= row_scale.array();
    return;
  }
  const double n = static_cast<double>(x.size());
  const Eigen::RowVectorXd x_dot = (x.transpose() * M) / n;
  if (kind == NormKind::layer) M.rowwise() -= M.colwise().sum() / n;
  M.noalias() -= x * x_dot;
  M.array().colwise() *= row_scale.array();
}

// The per-sample norm of op l (pre: at its input; post: at its output) applied to each Ms[k],
// with x and 1 / sigma as the forward pass stored them (norm_x, norm_inv_sigma: the backward
// reads them and leaves them as they are), by blocks of columns on the threads.
template <class T>
void apply_stored_norm(JacobianWalk<T>& walk, Index l, std::vector<Mat<double>>& Ms) {
  const LayerOp& op = walk.s.op(l);
  refuse_batch_norm(op, l);
  const Vec<double> g = walk.p.gain[l].template cast<double>();
  for (Index k = 0; k < walk.samples(); ++k) {
    Mat<double>& M = Ms[static_cast<std::size_t>(k)];
    const Vec<double> x = walk.ws.norm_x[l].row(k).transpose().template cast<double>();
    const Vec<double> row_scale = g * walk.ws.norm_inv_sigma[l][k];
    for_each_block_or_stop(M.cols(), walk.threads, [&](Index blk) {
      apply_norm_jacobian(op.norm, x, row_scale, M.middleCols(block_begin(blk), block_size(blk, M.cols())));
    });
  }
}

}  // namespace

// x is formed again from h = W a_prev + b at each sample, in f64: dense_norm_backward spends
// ws.norm_x (it lends the dense backward unit slopes), and --jacobian runs after the backward.
template <class T>
void dense_norm_jacobian(JacobianWalk<T>& walk, Index l) {
  const LayerOp& op = walk.s.op(l);
  refuse_batch_norm(op, l);
  const RowMat<double> W = layer_weights(walk.s, walk.p, l, walk.ws.W_scratch).template cast<double>();
  const Vec<double> b = walk.p.b[l].template cast<double>(), g = walk.p.gain[l].template cast<double>();
  for (Index k = 0; k < walk.samples(); ++k) {
    Vec<double> x = W * walk.ws.A[l - 1].row(k).transpose().template cast<double>() + b;  // h, then x
    const double inv_sigma = normalise_sample(op.norm, op.norm_eps, x);
    const Vec<double> row_scale =
        walk.ws.D[l].row(k).transpose().template cast<double>().cwiseProduct(g) * inv_sigma;  // phi'(u) g / sigma
    const Mat<double>& in = walk.J[static_cast<std::size_t>(k)];
    Mat<double>& out = walk.next[static_cast<std::size_t>(k)];
    out.resize(op.width, in.cols());
    for_each_group_or_stop(in.cols(), walk.threads, [&](const BlockGroup& g) {
      auto o = out.middleCols(g.c0, g.cols);
      o.noalias() = W * in.middleCols(g.c0, g.cols);
      apply_norm_jacobian(op.norm, x, row_scale, o);
    });
  }
}

template <class T>
void norm_input_jacobian(JacobianWalk<T>& walk, Index l) {
  apply_stored_norm(walk, l, walk.J);
}

template <class T>
void norm_output_jacobian(JacobianWalk<T>& walk, Index l) {
  apply_stored_norm(walk, l, walk.next);
}

#define GF_INSTANTIATE(T)                                                                                \
  template void norm_forward<T>(NormKind, double, Mat<T>&, Vec<double>&, int, const RunningRef*);                          \
  template void norm_backward<T>(NormKind, const Mat<T>&, const Vec<double>&, Eigen::Ref<Mat<T>>, int); \
  template bool dense_norm_forward<T>(Pass<T>&, Index);                                                 \
  template bool dense_norm_backward<T>(Pass<T>&, Index);                                                \
  template bool norm_input_forward<T>(Pass<T>&, Index);                                                 \
  template bool norm_input_backward<T>(Pass<T>&, Index);                                                \
  template void norm_output_forward<T>(Pass<T>&, Index);                                                \
  template void norm_output_backward<T>(Pass<T>&, Index);                                              \
  template void dense_norm_jacobian<T>(JacobianWalk<T>&, Index);                                        \
  template void norm_input_jacobian<T>(JacobianWalk<T>&, Index);                                        \
  template void norm_output_jacobian<T>(JacobianWalk<T>&, Index);
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace gf
