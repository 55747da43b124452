#pragma once
// The emitters qdgen ships. Each keeps its samples inside the domain's bounds (if any).

#include <memory>

#include "qdgen/engine/cma_es.hpp"
#include "qdgen/engine/emitter.hpp"

namespace qdgen::engine {

// MAP-Elites: a uniformly chosen elite plus N(0, sigma^2 I); x0 + noise while empty.
struct GaussianOptions {
  int batch_size = 36;
  double sigma = 0.1;
  Eigen::VectorXd x0;
};
// Iso+line variation (Vassiliades & Mouret 2018): x_i + iso_sigma N(0, I)
// + line_sigma N(0, 1) (x_j - x_i) for two elites x_i, x_j.
struct IsoLineOptions {
  int batch_size = 36;
  double iso_sigma = 0.01;
  double line_sigma = 0.2;
  Eigen::VectorXd x0;
};
// CMA-ES emitter of CMA-ME / CMA-MAE (pyribs' EvolutionStrategyEmitter).
enum class Ranker {
  kImprovement,          // "imp": by the archive's add value (CMA-MAE; novelty archives)
  kTwoStageImprovement,  // "2imp": new cell > improved > not added, then by value (CMA-ME)
  kObjective,            // "obj"
  kTwoStageObjective,    // "2obj"
  // "rd", "2rd": by the projection of the measures on a random direction, scaled by the
  // grid's measure ranges and drawn anew at every restart (CMA-ME's random direction
  // emitter); the two-stage form puts new cells first, then improvements.
  kRandomDirection,
  kTwoStageRandomDirection
};
inline bool ranks_by_random_direction(Ranker r) {
  return r == Ranker::kRandomDirection || r == Ranker::kTwoStageRandomDirection;
}
enum class SelectionRule { kMu, kFilter };  // mu = batch/2 parents; filter = those added
struct EvolutionStrategyOptions {
  int batch_size = 36;
  double sigma0 = 0.5;
  Eigen::VectorXd x0;
  Ranker ranker = Ranker::kTwoStageImprovement;
  SelectionRule selection = SelectionRule::kFilter;
  // "basic": only CMA-ES's own stop tests; "no_improvement": also when nothing was
  // added; every_n > 0: also every n iterations.
  bool restart_on_no_improvement = true;
  int restart_every_n = 0;
  RankOneUpdate rank_one = RankOneUpdate::kHansen;  // "rank_one": "hansen" / "pyribs"
};
// Hands parents to the domain's own mutation operator (text domains; LLM variation).
// Each child's operator is drawn from `operators` by weight (empty: the domain's default), so
// one emitter's children go to the model in one call; parents 0: the operator draws its own.
struct MutationOptions {
  int batch_size = 8;
  int parents = 2;
  std::vector<std::pair<std::string, double>> operators;
};

std::unique_ptr<Emitter> make_gaussian_emitter(const GaussianOptions& options);
std::unique_ptr<Emitter> make_iso_line_emitter(const IsoLineOptions& options);
std::unique_ptr<Emitter> make_evolution_strategy_emitter(const EvolutionStrategyOptions& options);
std::unique_ptr<Emitter> make_mutation_emitter(const MutationOptions& options);

}  // namespace qdgen::engine
