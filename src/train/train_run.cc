#include "train/train_run.h"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <optional>

#include "base/interrupt.h"
#include "core/engine.h"
#include "train/shuffle.h"

namespace gf {
namespace {

using Clock = std::chrono::steady_clock;

double log10_or_nan(double v) { return v > 0 && std::isfinite(v) ? std::log10(v) : kNaN; }

template <class T>
class Trainer {
 public:
  Trainer(const TrainConfig& c, const Dataset& d, const NetworkSpec& spec, int threads, TrainRun& run,
          TrainObserver* obs)
      : c_(c), d_(d), s_(spec), threads_(threads), run_(run), obs_(obs), p_(initial_params<T>(spec)), g_(spec),
        opt_(c.optimizer, spec), running_(spec), train_ws_(spec, c.net.batch, 0),
        eval_ws_(spec, std::min(c.eval_batch, d.n_train()), 0),
        order_(spec.seed, static_cast<std::uint32_t>(d.n_train()), static_cast<std::uint32_t>(c.net.batch)) {
    std::vector<std::uint32_t> rows(static_cast<std::size_t>(eval_ws_.batch));
    std::iota(rows.begin(), rows.end(), 0u);
    eval_ws_.load(d.x_train, d.y_train, rows.data());  // the evaluation batch never changes
    const Index n_test = d.n_test(), chunk = std::min(eval_ws_.batch, n_test);
    if (n_test > 0) test_ws_.emplace(spec, chunk, 0);
    if (n_test > 0 && n_test % chunk != 0) test_tail_ws_.emplace(spec, n_test % chunk, 0);
  }

  void run() {
    start_ = Clock::now();
    try {
      steps();
    } catch (const Interrupted&) {
      // Ctrl-C inside a pass or an evaluation: that step (or record) is dropped whole. The
      // parameters change only in the optimiser's step, which is never interrupted.
      run_.end = RunEnd::interrupted;
    }
    run_.seconds = seconds();
    if (obs_) obs_->on_end(run_);
  }

 private:
  void steps() {
    const Index log_every = c_.resolved_log_every();
    record(0, kNaN, nullptr);
    if (run_.log.back().train_error <= c_.target_error) {
      run_.steps_to_target = 0, run_.seconds_to_target = 0;
      // Met before any step: stopping here also keeps the loop below from a last record whose
      // update norms no step computed.
      if (c_.stop_at_target) return void(run_.end = RunEnd::stopped_at_target);
    } else {
      keep_state(0), schedule_next_check(0, run_.log.back().train_error);
    }
    for (Index step = 1; step <= c_.steps; ++step) {
      if (interrupt_requested()) {
        run_.end = RunEnd::interrupted;
        break;
      }
      const bool check = !run_.reached() && target_check_step(step);
      const bool log = step % log_every == 0 || step == c_.steps;
      train_ws_.load(d_.x_train, d_.y_train, order_.next());
      PassResult& fo = step_pass_;
      forward_pass(s_, p_, train_ws_, pass(log || check, step), fo);
      if (!std::isfinite(fo.loss)) {
        diverge(step, fo.overflow_layer, fo.overflow_layer > s_.depth()
                                             ? std::string("the logits")
                                             : fmt::format("layer {} pre-activations", fo.overflow_layer));
        break;
      }
      backward_pass(s_, p_, train_ws_, pass(log || check, step), fo);
      if (const Index bad = nonfinite_gradient_layer(); bad != 0) {
        diverge(step, bad, bad > s_.depth() ? std::string("the head's weight gradient")
                                            : fmt::format("layer {} weight gradient", bad));
        break;
      }
      opt_.step(p_, g_, log || check ? &norms_ : nullptr);
      run_.steps_done = step;
      if (log && !record(step, fo.loss, &norms_)) break;
      if (check) check_target(step);
      if (run_.reached() && c_.stop_at_target) {
        if (!log && !record(step, fo.loss, &norms_)) break;  // the last record: where it stopped
        run_.end = RunEnd::stopped_at_target;
        break;
      }
    }
    // Interrupted between log steps: no extra record. Evaluating the network once more could
    // take seconds on a wide one, and Ctrl-C must end gradflow within one; the report says how
    // many steps were taken (steps_done) and shows the last log step's measurements.
  }

  // Training's pass: gradients into g_, and d W's statistics only for a step whose record may be
  // written; `step` > 0 draws that step's dropout mask and folds each BatchNorm's batch
  // statistics into running_, 0 (evaluation) drops nothing and normalises with running_.
  PassPolicy<T> pass(bool record_stats, Index step = 0) {
    return train_policy<T>(threads_, g_, record_stats, static_cast<std::uint64_t>(step),
                           running_.any() ? &running_ : nullptr);
  }

  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void diverge(Index step, Index layer, std::string where) {
    run_.end = RunEnd::diverged;
    run_.divergence = {step, layer, std::move(where), run_.steps_done == 0,
                       d_.x_train.size() > 0 ? d_.x_train.cwiseAbs().maxCoeff() : 0.0};
  }

  // Steps to target: the first step whose error on the evaluation batch is at or below the
  // target. Checking every step costs a forward pass of the evaluation batch per step, so the
  // checks thin out where the target cannot be near: after a check at step s with error e, the
  // next is at most max(1, s/100) steps later (1% of the count), and at most (e - target) / (2 M)
  // steps later, M the largest fall of the error between two consecutive steps seen so far
  // (every step is checked up to 100): the error would have to fall twice as fast as it ever
  // did to reach the target unseen. A check that finds the target reached also replays the steps
  // since the previous check, one at a time, from a copy of the state that check left. So the
  // count is exact (checked against every step in the tests) unless the error falls faster than
  // twice its fastest fall so far. --target-every N checks every N steps instead (1: all). Log
  // records take no part: --log-every changes nothing.
  bool target_check_step(Index step) const { return step == c_.steps || step >= next_check_; }

  void schedule_next_check(Index step, double error) {
    if (step == last_checked_ + 1 && std::isfinite(last_error_)) max_fall_ = std::max(max_fall_, last_error_ - error);
    last_checked_ = step;
    last_error_ = error;
    Index every = c_.target_every > 0 ? c_.target_every : std::max<Index>(1, step / 100);
    if (c_.target_every == 0) {
      const double room = max_fall_ > 0 ? (error - c_.target_error) / (2 * max_fall_) : 1;
      every = std::clamp<Index>(static_cast<Index>(std::floor(room)), 1, every);
    }
    next_check_ = step + every;
  }

  double eval_error() {
    if (!std::isfinite(forward(eval_ws_).loss)) return kNaN;  // the log says why
    return static_cast<double>(count_errors(eval_ws_)) / static_cast<double>(eval_ws_.batch);
  }

  // Everything a step changes, to step again from there.
  struct State {
    Index step = 0;
    Params<T> p, g;
    Optimizer<T> opt;
    BatchOrder order;
    NormRunning running;
  };

  void keep_state(Index step) {
    if (!kept_) {
      kept_.emplace(State{step, p_, g_, opt_, order_, running_});
      return;
    }
    kept_->step = step;
    kept_->p = p_;  // assignments reuse the copy's memory
    kept_->opt = opt_;
    kept_->order = order_;
    kept_->running = running_;
  }

  void check_target(Index step) {
    const double error = eval_error();
    if (!(error <= c_.target_error)) {
      schedule_next_check(step, std::isfinite(error) ? error : 1.0);
      return keep_state(step);
    }
    run_.steps_to_target = step;
    run_.seconds_to_target = seconds();
    if (!kept_ || step - kept_->step < 2) return;
    State now{step, p_, g_, opt_, order_, running_};
    p_ = kept_->p;
    opt_ = kept_->opt;
    order_ = kept_->order;
    running_ = kept_->running;
    for (Index s = kept_->step + 1; s < step; ++s) {  // the same steps again: the same numbers
      train_ws_.load(d_.x_train, d_.y_train, order_.next());
      PassResult& fo = step_pass_;
      forward_pass(s_, p_, train_ws_, pass(false, s), fo);
      backward_pass(s_, p_, train_ws_, pass(false, s), fo);
      opt_.step(p_, g_, nullptr);
      if (eval_error() <= c_.target_error) {
        run_.steps_to_target = s;
        break;
      }
    }
    p_ = std::move(now.p);
    g_ = std::move(now.g);
    opt_ = std::move(now.opt);
    order_ = std::move(now.order);
    running_ = std::move(now.running);
  }

  Index nonfinite_gradient_layer() const {
    for (Index l = 1; l <= g_.layers(); ++l)
      if (!g_.W[l].allFinite() || !g_.b[l].allFinite()) return l;
    return 0;
  }

  double test_error() {
    const Index n = d_.n_test();
    if (n == 0) return kNaN;
    Index errors = 0;
    std::vector<std::uint32_t> rows;
    for (Index first = 0; first < n;) {
      Workspace<T>& ws = n - first >= test_ws_->batch ? *test_ws_ : *test_tail_ws_;
      rows.resize(static_cast<std::size_t>(ws.batch));
      std::iota(rows.begin(), rows.end(), static_cast<std::uint32_t>(first));
      ws.load(d_.x_test, d_.y_test, rows.data());
      if (!std::isfinite(forward(ws).loss)) return kNaN;
      errors += count_errors(ws);
      first += ws.batch;
    }
    return static_cast<double>(errors) / static_cast<double>(n);
  }

  // A forward pass of an evaluation batch (its statistics stay in eval_pass_).
  const PassResult& forward(Workspace<T>& ws) {
    forward_pass(s_, p_, ws, pass(false), eval_pass_);
    return eval_pass_;
  }

  // The log record after `step` updates; false if the network no longer gives finite outputs.
  bool record(Index step, double batch_loss, const UpdateNorms* norms) {
    const Index L = s_.depth();
    LogRecord r;
    r.step = step;
    r.batch_loss = batch_loss;
    r.layers.resize(static_cast<std::size_t>(L));
    const PassResult& fo = forward(eval_ws_);
    for (Index l = 1; l <= L; ++l) {
      LayerRecord& lr = r.layers[static_cast<std::size_t>(l - 1)];
      if (fo.overflow_layer == 0 || l < fo.overflow_layer) {
        const LayerStats& st = fo.layers[static_cast<std::size_t>(l - 1)];
        lr.saturated_frac = st.saturated_frac;
        lr.inactive_frac = st.inactive_frac;
        lr.dead_units_frac = st.dead_units_frac;
        lr.act_mean = st.act_mean;
      }
      if (norms) {  // the step just taken
        lr.grad_weight_log10 = 0.5 * log10_or_nan(g_.W[l].template cast<double>().squaredNorm());
        lr.dw_sign_coherence = step_pass_.layers[static_cast<std::size_t>(l - 1)].dw_sign_coherence;
        lr.update_ratio_log10 = 0.5 * log10_or_nan(norms->update_sumsq[static_cast<std::size_t>(l)] /
                                                   norms->weight_sumsq[static_cast<std::size_t>(l)]);
      }
    }
    if (norms && !step_pass_.blocks.empty()) {
      r.blocks = step_pass_.blocks;
      for (const BlockStats& b : r.blocks) {
        const LayerOp& op = s_.op(b.last_layer);
        r.alpha.push_back(op.learn_alpha ? static_cast<double>(p_.alpha[b.last_layer][0]) : kNaN);
      }
    }
    const bool finite = std::isfinite(fo.loss);
    if (finite) {
      r.loss = fo.loss;
      r.train_error = static_cast<double>(count_errors(eval_ws_)) / static_cast<double>(eval_ws_.batch);
      r.test_error = test_error();
    }
    run_.log.push_back(r);
    if (obs_) obs_->on_log(run_, run_.log.back());
    if (!finite) {
      diverge(step, fo.overflow_layer, fo.overflow_layer > L
                                           ? std::string("the logits on the evaluation batch")
                                           : fmt::format("layer {} pre-activations on the evaluation batch",
                                                         fo.overflow_layer));
      return false;
    }
    return true;
  }

  const TrainConfig& c_;
  const Dataset& d_;
  const NetworkSpec& s_;
  int threads_;
  TrainRun& run_;
  TrainObserver* obs_;
  Params<T> p_, g_;
  Optimizer<T> opt_;
  NormRunning running_;  // BatchNorm's running statistics: evaluation normalises with them
  Workspace<T> train_ws_, eval_ws_;
  std::optional<Workspace<T>> test_ws_, test_tail_ws_;
  BatchOrder order_;
  UpdateNorms norms_;
  PassResult step_pass_, eval_pass_;  // the last training step's pass; the last evaluation's
  std::optional<State> kept_;  // the state after the last check that found the target not reached
  Index next_check_ = 1, last_checked_ = 0;
  double last_error_ = kNaN, max_fall_ = 0;
  Clock::time_point start_;
};

}  // namespace

void train_one(const TrainConfig& c, const Dataset& d, const NetworkSpec& spec, int threads, TrainRun& run,
               TrainObserver* observer) {
  if (interrupt_requested()) {  // a run not started yet when Ctrl-C came
    run.end = RunEnd::interrupted;
    return;
  }
  try {
    if (c.net.dtype == Dtype::f32) Trainer<float>(c, d, spec, threads, run, observer).run();
    else Trainer<double>(c, d, spec, threads, run, observer).run();
  } catch (const Interrupted&) {  // while drawing the initial weights
    run.end = RunEnd::interrupted;
  }
}

}  // namespace gf
