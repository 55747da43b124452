#pragma once
// A domain turns solutions into (objective, measures, embedding?). Numeric benchmark
// domains evaluate one vector at a time; a text domain overrides the batch call (an LLM
// judges a whole batch at once) and offers its own mutation operator to emitters. Domains
// are described by a config's "domain" section (domain_spec.hpp).

#include <Eigen/Core>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qdgen/archive/elite.hpp"

namespace qdgen::llm {
class LanguageModel;
}

namespace qdgen::archive {
class Archive;
}

namespace qdgen::engine {

class ThreadPool;

// What the run lends a domain's batch calls: the evaluation threads and, for text domains,
// the language model that mutates and judges (null for numeric domains), the main archive as
// it stands (a text operator draws its few-shot examples by cell distance, a duplicate filter
// looks at a cell's neighbours) and the iteration being made.
struct DomainContext {
  ThreadPool& pool;
  llm::LanguageModel* model = nullptr;
  const archive::Archive* archive = nullptr;
  std::int64_t iteration = 0;
};

struct Evaluation {
  double objective = 0.0;
  Eigen::VectorXd measures;
  std::optional<Eigen::VectorXf> embedding;
  nlohmann::json metadata;  // e.g. a judge's raw output; null (nothing) costs no allocation
};

// Box constraints on numeric solutions; emitters keep their samples inside.
struct SolutionBounds {
  Eigen::VectorXd lower;
  Eigen::VectorXd upper;
};

// What an emitter asks a domain's own mutation operator for (text domains: an LLM call).
// `op` names one of the domain's operators (empty: its default); an operator that draws its
// own parents from the archive ignores `parents`.
struct MutationRequest {
  std::vector<const archive::Candidate*> parents;
  std::uint64_t seed = 0;
  std::string op;
};

// A child: its solution, the ids of the parents it was made from (empty: the request's),
// the operator that made it and what else its genome holds (a text's LoRA mixture and
// sampling settings), merged into the candidate's metadata.
struct Mutation {
  archive::Solution solution;
  std::vector<std::int64_t> parents;
  std::string op;
  nlohmann::json metadata;
};

class Domain {
 public:
  virtual ~Domain() = default;

  virtual std::string name() const = 0;
  virtual int solution_dim() const = 0;  // 0 when solutions are texts
  virtual int measure_dim() const = 0;
  virtual std::optional<SolutionBounds> bounds() const { return std::nullopt; }

  // Must be thread-safe and depend on the solution alone (determinism across threads).
  virtual Evaluation evaluate(const archive::Solution& solution) const = 0;
  // Evaluates a batch in place: sets each candidate's objective, measures and embedding,
  // and merges the evaluation's metadata into its own (a text judge may also look at
  // parents and operator). The default spreads evaluate() over the context's pool. A child
  // the domain rejects (an empty text) gets objective -inf and metadata "rejected" naming
  // why: it is stored but never added to an archive.
  virtual void evaluate_batch(std::span<archive::Candidate> batch,
                              const DomainContext& context) const;

  // The domain's own variation operator (texts); numeric domains have none.
  virtual bool has_mutation() const { return false; }
  virtual std::vector<Mutation> mutate(std::span<const MutationRequest> requests,
                                       const DomainContext& context) const;

  // Metrics of the domain's own after an iteration's adds (a text domain's Vendi scores of
  // the elites, its model calls' tokens and seconds), merged into the iteration's metrics;
  // null: none.
  virtual nlohmann::json iteration_metrics(const archive::Archive& /*archive*/,
                                           const DomainContext& /*context*/) const {
    return nullptr;
  }
};

}  // namespace qdgen::engine
