#include "qdgen/engine/domain.hpp"

#include <stdexcept>

#include "qdgen/engine/thread_pool.hpp"

namespace qdgen::engine {

std::vector<Evaluation> Domain::evaluate_batch(std::span<const archive::Candidate> batch,
                                               ThreadPool& pool) const {
  std::vector<Evaluation> results(batch.size());
  pool.parallel_for(batch.size(), [&](std::size_t i) { results[i] = evaluate(batch[i].solution); });
  return results;
}

std::vector<archive::Solution> Domain::mutate(std::span<const MutationRequest>, ThreadPool&) const {
  throw std::runtime_error("domain '" + name() + "' offers no mutation operator");
}

}  // namespace qdgen::engine
