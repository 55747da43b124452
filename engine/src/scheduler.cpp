#include "qdgen/engine/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "qdgen/archive/factory.hpp"
#include "qdgen/archive/novelty_archive.hpp"
#include "qdgen/common/memory_budget.hpp"
#include "qdgen/engine/emitter_selector.hpp"

namespace qdgen::engine {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

nlohmann::json stats_json(const archive::ArchiveStats& s) {
  return {{"num_elites", s.num_elites},       {"coverage", s.coverage}, {"qd_score", s.qd_score},
          {"norm_qd_score", s.norm_qd_score}, {"obj_max", s.obj_max},   {"obj_mean", s.obj_mean}};
}

// Adds a batch in which a domain may have rejected children on purpose (objective -inf and
// metadata "rejected" naming why: an empty or degenerate text, a near-duplicate): those are
// stored but never reach the archive. Any other non-finite objective is the archive's error.
std::vector<archive::AddResult> add_judged(archive::Archive& archive,
                                           std::span<const archive::Candidate> batch) {
  const auto rejected = [](const archive::Candidate& c) {
    return c.objective == -std::numeric_limits<double>::infinity() && c.metadata.is_object() &&
           c.metadata.contains("rejected");
  };
  if (std::none_of(batch.begin(), batch.end(), rejected)) return archive.add(batch);
  std::vector<archive::Candidate> judged;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!rejected(batch[i])) {
      judged.push_back(batch[i]);
      positions.push_back(i);
    }
  std::vector<archive::AddResult> results(batch.size());
  for (auto& r : results) r.value = -std::numeric_limits<double>::infinity();
  const std::vector<archive::AddResult> added = archive.add(judged);
  for (std::size_t k = 0; k < positions.size(); ++k) results[positions[k]] = added[k];
  return results;
}

}  // namespace

Scheduler::Scheduler(std::unique_ptr<Domain> domain, std::unique_ptr<archive::Archive> archive,
                     std::unique_ptr<archive::Archive> result_archive,
                     std::vector<std::unique_ptr<Emitter>> emitters,
                     const SelectionConfig& selection, std::uint64_t seed, int threads,
                     llm::LanguageModel* model)
    : domain_(std::move(domain)),
      archive_(std::move(archive)),
      result_archive_(std::move(result_archive)),
      emitters_(std::move(emitters)),
      selector_(std::make_unique<EmitterSelector>(selection, static_cast<int>(emitters_.size()))),
      rng_(seed),
      pool_(resolve_threads(threads)),
      domain_context_{pool_, model, archive_.get()} {
  if (emitters_.empty()) throw std::runtime_error("a run needs at least one emitter");
  if (archive_->measure_dim() != domain_->measure_dim())
    throw std::runtime_error("archive has " + std::to_string(archive_->measure_dim()) +
                             " measure dimensions, domain '" + domain_->name() + "' has " +
                             std::to_string(domain_->measure_dim()));
  if (result_archive_ && result_archive_->measure_dim() != domain_->measure_dim())
    throw std::runtime_error("result archive has " +
                             std::to_string(result_archive_->measure_dim()) +
                             " measure dimensions, domain '" + domain_->name() + "' has " +
                             std::to_string(domain_->measure_dim()));
  for (auto& emitter : emitters_) emitter->bind(*domain_);
}

Scheduler::~Scheduler() = default;

const archive::Archive& Scheduler::result_archive() const {
  return result_archive_ ? *result_archive_ : *archive_;
}

store::IterationRecord Scheduler::step() {
  store::IterationRecord record;
  record.iteration = next_iteration_;
  domain_context_.iteration = next_iteration_;
  EmitterContext context{*archive_, *domain_, rng_, domain_context_, archive_->elites()};

  const auto t0 = Clock::now();
  const std::vector<int> selected = selector_->select();
  std::size_t total = 0;
  for (const int k : selected) total += static_cast<std::size_t>(emitters_[k]->batch_size());
  record.candidates.reserve(total);
  std::vector<std::size_t> begin_of(selected.size() + 1, 0);
  for (std::size_t k = 0; k < selected.size(); ++k) {
    Emitter& emitter = *emitters_[selected[k]];
    std::vector<archive::Candidate> asked = emitter.ask(context);
    if (static_cast<int>(asked.size()) != emitter.batch_size())
      throw std::runtime_error(emitter.kind() + " emitter returned " +
                               std::to_string(asked.size()) + " candidates, expected " +
                               std::to_string(emitter.batch_size()));
    for (auto& candidate : asked) {
      candidate.id = next_candidate_id_++;
      candidate.iteration = record.iteration;
      record.candidates.push_back(std::move(candidate));
    }
    begin_of[k + 1] = record.candidates.size();
  }
  lend_spare_buffers(record.candidates);
  // Each emitter finishes its own slice; they touch disjoint candidates and state.
  pool_.parallel_for(selected.size(), [&](std::size_t k) {
    const std::span<archive::Candidate> slice(record.candidates.data() + begin_of[k],
                                              begin_of[k + 1] - begin_of[k]);
    emitters_[selected[k]]->complete(slice);
    for (auto& candidate : slice) candidate.emitter = static_cast<std::int32_t>(selected[k]);
  });
  const double ask_s = seconds_since(t0);

  const auto t1 = Clock::now();
  domain_->evaluate_batch(record.candidates, domain_context_);
  evaluations_ += static_cast<std::int64_t>(record.candidates.size());
  const double evaluate_s = seconds_since(t1);

  const auto t2 = Clock::now();
  record.add_results = add_judged(*archive_, record.candidates);
  if (result_archive_) record.result_add_results = add_judged(*result_archive_, record.candidates);
  if (const auto* novelty = dynamic_cast<const archive::NoveltyArchive*>(archive_.get()))
    record.removed_candidate_ids = novelty->removed_candidate_ids();
  context.elites = archive_->elites();  // restarts in tell() draw from the new archive
  const double add_s = seconds_since(t2);

  const auto t3 = Clock::now();
  std::vector<double> gains(selected.size(), 0.0);
  for (std::size_t k = 0; k < selected.size(); ++k) {
    const std::size_t b = begin_of[k], e = begin_of[k + 1];
    std::span<const archive::Candidate> evaluated(record.candidates.data() + b, e - b);
    std::span<const archive::AddResult> results(record.add_results.data() + b, e - b);
    emitters_[selected[k]]->tell(evaluated, results, context);
    // A novelty archive's first admissions have infinite novelty: no gain to compare, and
    // an infinite reward would not survive the JSON of the saved state.
    for (const auto& r : results)
      if (r.status != archive::AddStatus::kNotAdded && r.value > 0 && std::isfinite(r.value))
        gains[k] += r.value;
    gains[k] /= static_cast<double>(std::max<std::size_t>(1, e - b));
  }
  selector_->reward(selected, gains);
  const double tell_s = seconds_since(t3);

  std::int64_t added = 0;
  for (const auto& r : record.add_results)
    if (r.status != archive::AddStatus::kNotAdded) ++added;
  last_stats_ = result_archive().stats();
  record.metrics = stats_json(*last_stats_);
  record.metrics["evaluations"] = evaluations_;
  record.metrics["added"] = added;
  if (result_archive_) record.metrics["archive"] = stats_json(archive_->stats());
  last_domain_metrics_ = domain_->iteration_metrics(result_archive(), domain_context_);
  if (last_domain_metrics_.is_object())
    for (const auto& [key, value] : last_domain_metrics_.items()) record.metrics[key] = value;
  record.timings = {{"ask", ask_s}, {"evaluate", evaluate_s}, {"add", add_s}, {"tell", tell_s}};

  ++next_iteration_;
  if (capture_state_) {
    std::ostringstream rng_text;
    rng_text << rng_;
    record.rng_state = rng_text.str();
    record.engine_state = engine_state();
  }
  return record;
}

void Scheduler::dispose(store::IterationRecord&& record) {
  spare_ = std::move(record.candidates);
}

void Scheduler::lend_spare_buffers(std::span<archive::Candidate> candidates) {
  const std::size_t n = std::min(candidates.size(), spare_.size());
  for (std::size_t i = 0; i < n; ++i) {
    archive::Candidate& fresh = candidates[i];
    archive::Candidate& used = spare_[i];
    auto* fresh_vector = std::get_if<Eigen::VectorXd>(&fresh.solution);
    if (fresh_vector != nullptr && fresh_vector->size() == 0 &&
        std::holds_alternative<Eigen::VectorXd>(used.solution))
      fresh_vector->swap(std::get<Eigen::VectorXd>(used.solution));
    if (fresh.measures.size() == 0) fresh.measures.swap(used.measures);
    if (fresh.parents.capacity() == 0) {
      used.parents.clear();
      fresh.parents.swap(used.parents);
    }
  }
  spare_.clear();
}

nlohmann::json Scheduler::engine_state() const {
  nlohmann::json emitters = nlohmann::json::array();
  for (const auto& e : emitters_) emitters.push_back(e->state());
  return {{"next_iteration", next_iteration_},
          {"next_candidate_id", next_candidate_id_},
          {"evaluations", evaluations_},
          {"emitters", emitters},
          {"selector", selector_->state()}};
}

archive::ArchiveStats Scheduler::stats() const {
  return last_stats_ ? *last_stats_ : result_archive().stats();
}

void Scheduler::restore(const std::vector<std::vector<archive::Candidate>>& added_by_iteration,
                        const std::string& rng_state, const nlohmann::json& engine_state) {
  last_stats_.reset();
  archive_->clear();
  if (result_archive_) result_archive_->clear();
  for (const auto& batch : added_by_iteration) {
    archive_->add(batch);
    if (result_archive_) result_archive_->add(batch);
  }
  std::istringstream rng_text(rng_state);
  rng_text >> rng_;
  if (!rng_text) throw std::runtime_error("run store: unreadable RNG state");
  next_iteration_ = engine_state.at("next_iteration").get<std::int64_t>();
  next_candidate_id_ = engine_state.at("next_candidate_id").get<std::int64_t>();
  evaluations_ = engine_state.at("evaluations").get<std::int64_t>();
  const auto& states = engine_state.at("emitters");
  if (states.size() != emitters_.size())
    throw std::runtime_error("run store: engine state has " + std::to_string(states.size()) +
                             " emitters, the config " + std::to_string(emitters_.size()));
  for (std::size_t i = 0; i < emitters_.size(); ++i) emitters_[i]->restore(states[i]);
  selector_->restore(engine_state.at("selector"));
}

namespace {

// What a run holds that grows with the config's sizes: each iteration's candidates (their
// solutions and measures, kept once more for the next iteration's recycled buffers) and a
// CMA-ES emitter's covariance matrix with its eigendecomposition (three dim x dim matrices).
// The archive checks its own cells. A size beyond the machine gets its message here, before
// anything is allocated.
void check_run_memory(const ExperimentConfig& config) {
  const double dim = std::max(config.domain->solution_dim(), 1);
  const double measures = std::max(config.domain->measure_dim(), 1);
  double candidates = 0;
  double covariance = 0;
  for (const EmitterGroup& group : config.emitters) {
    candidates += double(group.count) * double(group.spec->batch_size());
    if (group.spec->kind() == "cma_es") covariance += double(group.count) * 3.0 * dim * dim * 8.0;
  }
  const double per_candidate = 2.0 * (dim + measures) * 8.0;
  common::require_memory(candidates * per_candidate,
                         "an iteration of " + std::to_string(std::int64_t(candidates)) +
                             " candidates of dimension " + std::to_string(std::int64_t(dim)));
  common::require_memory(covariance, "the CMA-ES emitters' covariance matrices (dimension " +
                                         std::to_string(std::int64_t(dim)) + ")");
}

}  // namespace

std::unique_ptr<Scheduler> make_scheduler(const ExperimentConfig& config, int threads,
                                          llm::LanguageModel* model) {
  check_run_memory(config);
  std::vector<std::unique_ptr<Emitter>> emitters;
  for (const EmitterGroup& group : config.emitters)
    for (int i = 0; i < group.count; ++i) emitters.push_back(group.spec->build());
  std::unique_ptr<archive::Archive> main = config.archive->build();
  std::unique_ptr<archive::Archive> result;
  if (config.result_archive == ResultArchive::kOwn)
    result = config.own_result_archive->build();
  else if (config.result_archive == ResultArchive::kPlainTwin)
    result = archive::make_result_archive(*main);
  return std::make_unique<Scheduler>(config.domain->build(), std::move(main), std::move(result),
                                     std::move(emitters), config.selection, config.seed, threads,
                                     model);
}

}  // namespace qdgen::engine
