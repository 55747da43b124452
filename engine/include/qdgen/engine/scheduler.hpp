#pragma once
// The search loop, one iteration per step(): selected emitters ask, the domain evaluates
// on the thread pool, the archive (and the CMA-MAE result archive) add, emitters are told,
// metrics are taken, and the whole iteration comes back as one IterationRecord for the
// run store. All randomness flows from one Rng on the calling thread, so a run depends
// on its seed alone, whatever the number of threads.

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "qdgen/archive/archive.hpp"
#include "qdgen/engine/config.hpp"
#include "qdgen/engine/domain.hpp"
#include "qdgen/engine/emitter.hpp"
#include "qdgen/engine/thread_pool.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::engine {

class EmitterSelector;

class Scheduler {
 public:
  Scheduler(std::unique_ptr<Domain> domain, std::unique_ptr<archive::Archive> archive,
            std::unique_ptr<archive::Archive> result_archive,
            std::vector<std::unique_ptr<Emitter>> emitters, const SelectionConfig& selection,
            std::uint64_t seed, int threads, llm::LanguageModel* model = nullptr);
  ~Scheduler();

  // Runs the next iteration and returns everything the store commits for it.
  store::IterationRecord step();
  // Takes a record back once it is committed: its candidates' buffers (solution vector,
  // measures, parents) are lent to the next step's candidates, so that a numeric run does
  // not allocate and free thousands of blocks per iteration (freeing them across threads
  // cost more than the evaluation of sphere-100D).
  void dispose(store::IterationRecord&& record);
  // Whether step() fills the record's rng_state and engine_state (default on). A run
  // without a store turns it off: CMA-ES state of 100-D emitters is megabytes per iteration.
  void set_capture_state(bool capture) { capture_state_ = capture; }

  // Resume: replays the added candidates (one batch per committed iteration) into the
  // archives, then restores the Rng and the emitters' and selector's state.
  void restore(const std::vector<std::vector<archive::Candidate>>& added_by_iteration,
               const std::string& rng_state, const nlohmann::json& engine_state);

  std::int64_t next_iteration() const { return next_iteration_; }
  std::int64_t evaluations() const { return evaluations_; }
  // The archive metrics are reported from: the result archive under CMA-MAE.
  const archive::Archive& result_archive() const;
  // result_archive().stats(), as the last step left it (taken once per iteration).
  archive::ArchiveStats stats() const;
  const archive::Archive& archive() const { return *archive_; }
  const Domain& domain() const { return *domain_; }
  int threads() const { return pool_.threads(); }
  // The domain's own metrics of the last step (Vendi of a text domain's elites), or null.
  const nlohmann::json& domain_metrics() const { return last_domain_metrics_; }

 private:
  nlohmann::json engine_state() const;
  // Moves the spare candidates' buffers into the fresh ones that have none of their own;
  // emitters and domains overwrite them in place (sizes match in a numeric run).
  void lend_spare_buffers(std::span<archive::Candidate> candidates);

  std::unique_ptr<Domain> domain_;
  std::unique_ptr<archive::Archive> archive_;
  std::unique_ptr<archive::Archive> result_archive_;
  std::vector<std::unique_ptr<Emitter>> emitters_;
  std::vector<archive::Candidate> spare_;  // the last disposed candidates, for their buffers
  std::unique_ptr<EmitterSelector> selector_;
  Rng rng_;
  ThreadPool pool_;
  DomainContext domain_context_;
  std::int64_t next_iteration_ = 0;
  std::int64_t next_candidate_id_ = 0;
  std::int64_t evaluations_ = 0;
  bool capture_state_ = true;
  std::optional<archive::ArchiveStats> last_stats_;
  nlohmann::json last_domain_metrics_;
};

// Builds what an experiment config describes, once (threads 0: all hardware threads).
// `model` is handed to the domain's calls (text domains); numeric domains need none.
std::unique_ptr<Scheduler> make_scheduler(const ExperimentConfig& config, int threads,
                                          llm::LanguageModel* model = nullptr);

}  // namespace qdgen::engine
