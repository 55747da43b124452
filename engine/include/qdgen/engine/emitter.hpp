#pragma once
// An emitter proposes candidates (ask) and learns from how the archive received them
// (tell). Emitters see the archive read-only; the scheduler alone adds to it.

#include <span>
#include <string>
#include <vector>

#include "qdgen/archive/archive.hpp"
#include "qdgen/engine/domain.hpp"
#include "qdgen/engine/random.hpp"

namespace qdgen::engine {

struct EmitterContext {
  const archive::Archive& archive;  // what parents come from and results are ranked against
  const Domain& domain;
  Rng& rng;  // the run's one generator, used in emitter order on the scheduler's thread
  const DomainContext& domain_context;  // the pool (and model) the domain's calls get
  // archive.elites() as it stands; the scheduler refreshes it whenever the archive changes,
  // so that every emitter's parent draws do not rebuild the list.
  std::vector<const archive::Elite*> elites;

  // n elites drawn uniformly with replacement, exactly as Archive::sample_uniform draws
  // them; empty while the archive is.
  std::vector<const archive::Elite*> sample_uniform(std::size_t n);
};

class Emitter {
 public:
  virtual ~Emitter() = default;

  virtual std::string kind() const = 0;
  virtual int batch_size() const = 0;
  // Called once with the run's domain before the first ask (and before restore).
  virtual void bind(const Domain& /*domain*/) {}
  // batch_size() candidates with parents and op set (ids are the scheduler's). ask()
  // makes every draw from the run's Rng (parents, noise seeds) on the scheduler's thread;
  // the solutions may be left for complete().
  virtual std::vector<archive::Candidate> ask(EmitterContext& context) = 0;
  // Fills in the solutions of the last ask (noise, sampling). Runs on a pool thread,
  // concurrently with other emitters' complete(), so it may use only what ask() drew.
  virtual void complete(std::span<archive::Candidate> /*batch*/) {}
  // The evaluated candidates of the last ask and the archive's verdicts, in ask order.
  virtual void tell(std::span<const archive::Candidate> evaluated,
                    std::span<const archive::AddResult> results, EmitterContext& context) = 0;

  // Evolving state for resume (CMA-ES mean, covariance, ...); stateless emitters keep none.
  virtual nlohmann::json state() const { return nlohmann::json::object(); }
  virtual void restore(const nlohmann::json& /*state*/) {}
};

}  // namespace qdgen::engine
