#pragma once
// What an archive stores and reports: candidates, elites and the outcome of adding them.

#include <Eigen/Core>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace qdgen::archive {

// The one random-number generator of qdgen: its state serialises to text (operator<<), so
// the run store can save it per iteration and a resumed run continues bit for bit.
using Rng = std::mt19937_64;

// A solution is a numeric vector (benchmark domains) or a text (generation domains).
using Solution = std::variant<Eigen::VectorXd, std::string>;

// An evaluated candidate, as the engine hands it to an archive and to the run store.
struct Candidate {
  std::int64_t id = -1;        // unique within a run, assigned by the engine
  std::int64_t iteration = 0;  // iteration that produced it
  Solution solution;
  double objective = 0.0;
  Eigen::VectorXd measures;
  std::optional<Eigen::VectorXf> embedding;  // for Vendi scores and embedding-space novelty
  std::vector<std::int64_t> parents;         // candidate ids
  std::string op;                            // operator that made it ("gaussian", "lmx", ...)
  // Index of the emitter that asked for it (-1: none). The run store writes it into the stored
  // metadata as "emitter" and reads it back from there; kept apart in memory so that a
  // candidate needs no JSON object of its own.
  std::int32_t emitter = -1;
  // e.g. raw judge output. Null (the default, no allocation) means none and is stored as {};
  // setting a key (metadata["judge"] = ...) turns it into an object.
  nlohmann::json metadata;
};

// An elite is a candidate that holds a cell (grid/CVT) or a place (novelty archive).
struct Elite {
  std::int64_t cell = -1;  // cell index; for the novelty archive, the member slot
  Candidate candidate;
};

// pyribs' batch-add statuses: 0 not added, 1 improved an existing elite, 2 filled a new cell.
enum class AddStatus : int { kNotAdded = 0, kImproveExisting = 1, kNew = 2 };

struct AddResult {
  AddStatus status = AddStatus::kNotAdded;
  // pyribs' "value": objective minus the cell's threshold as it stood before the batch
  // (the old elite's objective in plain MAP-Elites); for a new cell, objective minus
  // threshold_min, or the bare objective when threshold_min is -inf (the QD offset only
  // enters the QD score, as in pyribs). For candidates not added the same difference, <= 0.
  // Novelty archive: novelty minus threshold when admitted for novelty, objective minus
  // the replaced neighbour's objective under local competition.
  double value = 0.0;
  std::int64_t cell = -1;  // the cell the candidate maps to (-1 where none applies)
};

}  // namespace qdgen::archive
