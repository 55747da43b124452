#include "qdgen/engine/domain.hpp"

#include <stdexcept>

#include "qdgen/engine/thread_pool.hpp"

namespace qdgen::engine {

void Domain::evaluate_batch(std::span<archive::Candidate> batch,
                            const DomainContext& context) const {
  context.pool.parallel_for(batch.size(), [&](std::size_t i) {
    archive::Candidate& candidate = batch[i];
    Evaluation evaluation = evaluate(candidate.solution);
    candidate.objective = evaluation.objective;
    // Copied into the buffer the scheduler lent the candidate when the sizes match, so
    // the evaluation's own vector is freed by the thread that made it.
    if (candidate.measures.size() == evaluation.measures.size())
      candidate.measures = evaluation.measures;
    else
      candidate.measures = std::move(evaluation.measures);
    candidate.embedding = std::move(evaluation.embedding);
    if (evaluation.metadata.is_object())
      for (auto& [key, value] : evaluation.metadata.items()) candidate.metadata[key] = value;
  });
}

std::vector<Mutation> Domain::mutate(std::span<const MutationRequest>, const DomainContext&) const {
  throw std::runtime_error("domain '" + name() + "' offers no mutation operator");
}

}  // namespace qdgen::engine
