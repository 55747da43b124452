#include "training_run.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "adamw.hpp"
#include "batch_order.hpp"
#include "checkpoint.hpp"
#include "heldout_loss.hpp"
#include "output_folder.hpp"

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kCheckpointFormat = "qdgen training checkpoint";
constexpr int kCheckpointVersion = 1;
constexpr std::size_t kRecentLosses = 20;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Names the first setting in which a checkpoint's run differs from this one.
void check_same_run(const json& saved, const json& current, const fs::path& folder) {
  for (const auto& [key, value] : current.items()) {
    const json before = saved.contains(key) ? saved[key] : json();
    if (before != value) {
      throw std::runtime_error(folder.string() + ": the checkpoint's run has " + key + " = " +
                               before.dump() + ", this one " + value.dump() +
                               " (resume with the same settings, or start over with --overwrite)");
    }
  }
}

class Evaluator {
 public:
  Evaluator(const TrainingJob& job)
      : job_(job), windows_(job.corpus->heldout_windows(job.options->eval_windows)) {}
  bool enabled() const { return !windows_.empty(); }

  // Mean loss per held-out token, in batches of up to options.batch equal-length windows.
  double operator()() const {
    return mean_window_loss(job_.corpus->heldout_tokens(), windows_, job_.options->batch,
                            job_.loss);
  }

 private:
  const TrainingJob& job_;
  std::vector<std::pair<std::int64_t, std::int64_t>> windows_;
};

}  // namespace

fs::path checkpoint_folder(const TrainingOptions& options) {
  if (!options.checkpoint_dir.empty()) return options.checkpoint_dir;
  fs::path out = options.out;
  if (out.filename().empty()) out = out.parent_path();  // "dir/" names "dir"
  return out.string() + ".checkpoint";
}

void check_output_folders(const TrainingOptions& options) {
  if (options.out.empty()) throw std::runtime_error("--out: give the folder to write");
  if (fs::exists(options.out) && !options.overwrite) {
    throw std::runtime_error(options.out.string() +
                             ": the output folder exists (use --overwrite to replace it)");
  }
  const fs::path checkpoint = checkpoint_folder(options);
  if (options.resume) {
    if (!checkpoint_exists(checkpoint)) {
      throw std::runtime_error(checkpoint.string() + ": no checkpoint to resume from");
    }
  } else if (checkpoint_exists(checkpoint) && !options.overwrite) {
    throw std::runtime_error(checkpoint.string() +
                             ": a checkpoint of an earlier run is there (--resume continues it, "
                             "--overwrite starts over)");
  }
}

TrainingResult run_training(const TrainingJob& job, const TrainingProgressFn& progress) {
  const TrainingOptions& o = *job.options;
  const TrainingCorpus& corpus = *job.corpus;
  const fs::path checkpoint = checkpoint_folder(o);
  const auto start = Clock::now();
  // Starting over: an old run's checkpoint must not be resumed by mistake later.
  if (!o.resume && o.overwrite) fs::remove_all(checkpoint);

  AdamW optimizer(job.trainable,
                  {o.beta1, o.beta2, o.adam_epsilon, o.weight_decay, o.gradient_clip});
  BatchOrder order(corpus.train_windows(), o.seed);
  Evaluator evaluate(job);

  TrainingResult result;
  result.steps = o.steps;
  result.parameters = job.parameters;
  for (const TrainableParameter& p : job.trainable) result.trainable_parameters += p.tensor.numel();
  result.train_documents = corpus.train_documents();
  result.heldout_documents = corpus.heldout_documents();
  result.train_tokens = static_cast<std::int64_t>(corpus.train_tokens().size());
  result.heldout_tokens = static_cast<std::int64_t>(corpus.heldout_tokens().size());
  result.threads = job.threads;
  result.checkpoint = checkpoint;

  std::int64_t step = 0;
  std::vector<double> recent;  // the last kRecentLosses training losses
  std::optional<double> heldout, initial_heldout;
  const auto optional_number = [](const json& state, const char* key) -> std::optional<double> {
    if (!state.contains(key) || state[key].is_null()) return std::nullopt;
    return state[key].get<double>();
  };
  if (o.resume) {
    const json state = load_checkpoint(checkpoint, job.trainable, optimizer.state());
    if (state.value("format", "") != kCheckpointFormat ||
        state.value("version", 0) != kCheckpointVersion) {
      throw std::runtime_error(checkpoint.string() +
                               ": not a qdgen training checkpoint of version " +
                               std::to_string(kCheckpointVersion));
    }
    check_same_run(state.at("fingerprint"), job.fingerprint, checkpoint);
    step = state.at("step").get<std::int64_t>();
    optimizer.restore(step);
    order.restore(state.at("batch_order").get<std::string>());
    recent = state.at("recent_losses").get<std::vector<double>>();
    heldout = optional_number(state, "heldout_loss");
    initial_heldout = optional_number(state, "initial_heldout_loss");
  }
  const auto save = [&] {
    save_checkpoint(checkpoint, job.trainable, optimizer.state(),
                    {{"format", kCheckpointFormat},
                     {"version", kCheckpointVersion},
                     {"step", step},
                     {"batch_order", order.state()},
                     {"recent_losses", recent},
                     {"heldout_loss", heldout ? json(*heldout) : json()},
                     {"initial_heldout_loss", initial_heldout ? json(*initial_heldout) : json()},
                     {"threads", job.threads},
                     {"fingerprint", job.fingerprint}});
  };

  TrainingProgress report;
  report.steps = o.steps;
  const auto notify = [&](TrainingProgress::Event event) {
    report.event = event;
    report.step = step;
    report.heldout_loss = heldout;
    report.seconds = seconds_since(start);
    if (progress) progress(report);
  };

  const std::int64_t context = corpus.context();
  const auto& tokens = corpus.train_tokens();
  at::Tensor inputs = at::empty({o.batch, context}, at::kLong);
  at::Tensor targets = at::empty({o.batch, context}, at::kLong);
  // Where a fresh run starts from: the base's loss, for an adapter.
  if (!o.resume && evaluate.enabled() && o.eval_every > 0) {
    heldout = initial_heldout = evaluate();
    notify(TrainingProgress::Event::kEvaluation);
  }
  double training_seconds = 0;
  std::int64_t steps_here = 0;
  const std::int64_t first_step = step;
  while (step < o.steps) {
    const auto step_start = Clock::now();
    const auto windows = order.next_batch(o.batch);
    std::int64_t* in = inputs.data_ptr<std::int64_t>();
    std::int64_t* out = targets.data_ptr<std::int64_t>();
    for (std::int64_t r = 0; r < o.batch; ++r) {
      const std::int64_t begin = windows[static_cast<std::size_t>(r)] * context;
      for (std::int64_t t = 0; t < context; ++t) {
        in[r * context + t] = tokens[static_cast<std::size_t>(begin + t)];
        out[r * context + t] = tokens[static_cast<std::size_t>(begin + t + 1)];
      }
    }
    for (const TrainableParameter& p : job.trainable) {
      at::Tensor tensor = p.tensor;
      tensor.mutable_grad() = at::Tensor();  // the backward pass then owns the new gradient
    }
    const at::Tensor loss = job.loss(inputs, targets, false);
    loss.backward();
    const double rate =
        learning_rate_at(step, o.steps, o.warmup_steps, o.learning_rate, o.min_learning_rate_ratio);
    optimizer.step(rate);
    ++step;
    ++steps_here;
    training_seconds += seconds_since(step_start);

    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      throw std::runtime_error("the training loss became " + std::to_string(value) + " at step " +
                               std::to_string(step) + " (try a lower --lr)");
    }
    recent.push_back(value);
    if (recent.size() > kRecentLosses) recent.erase(recent.begin());
    report.loss = value;
    report.learning_rate = rate;
    report.tokens_per_second =
        static_cast<double>(steps_here * o.batch * context) / training_seconds;
    const double per_step = seconds_since(start) / static_cast<double>(step - first_step);
    report.eta_seconds = per_step * static_cast<double>(o.steps - step);
    notify(TrainingProgress::Event::kStep);

    if (evaluate.enabled() && o.eval_every > 0 && step % o.eval_every == 0 && step < o.steps) {
      heldout = evaluate();
      notify(TrainingProgress::Event::kEvaluation);
    }
    const bool stopping = o.stop != nullptr && o.stop->load();
    if (stopping || (o.checkpoint_every > 0 && step % o.checkpoint_every == 0 && step < o.steps)) {
      save();
      notify(TrainingProgress::Event::kCheckpoint);
    }
    if (stopping) {
      result.interrupted = true;
      break;
    }
  }
  if (!result.interrupted) {
    if (evaluate.enabled()) {
      heldout = evaluate();
      notify(TrainingProgress::Event::kEvaluation);
    }
    save();
    notify(TrainingProgress::Event::kCheckpoint);
    if (fs::exists(o.out) && !o.overwrite) {
      throw std::runtime_error(o.out.string() +
                               ": the output folder appeared during training (use --overwrite to "
                               "replace it); the checkpoint keeps the run");
    }
    const fs::path staged = make_staging_folder(o.out, "writing");
    job.write_output(staged);
    publish_folder(staged, o.out);
    result.out = o.out;
  }
  result.step = step;
  for (double v : recent) result.loss += v / static_cast<double>(recent.size());
  result.heldout_loss = heldout;
  result.initial_heldout_loss = initial_heldout;
  result.tokens = steps_here * o.batch * context;
  result.seconds = seconds_since(start);
  result.tokens_per_second =
      training_seconds > 0 ? static_cast<double>(result.tokens) / training_seconds : 0;
  return result;
}

}  // namespace qdgen::inference::training
