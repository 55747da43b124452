#pragma once
// Archives from the "archive" section of an experiment config (keys in README, "Archive
// configuration"). A section parses into a spec that is fully validated but builds nothing
// (a CVT's k-means runs in build()); errors name the key path, e.g.
// "archive.dims[1].cells: expected an integer in [1, 1000000], got -3"; unknown keys are
// errors. The types ("grid", "cvt", "novelty") are the kinds archive_kinds() lists.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/archive/archive.hpp"
#include "qdgen/common/kind_registry.hpp"

namespace qdgen::archive {

class ArchiveSpec {
 public:
  virtual ~ArchiveSpec() = default;
  virtual std::string type() const = 0;
  virtual int measure_dim() const = 0;
  // Whether novelty is measured between solutions' embeddings rather than their measures.
  virtual bool uses_embeddings() const { return false; }
  virtual std::unique_ptr<Archive> build() const = 0;
};

using ArchiveKinds = common::KindRegistry<ArchiveSpec>;
const ArchiveKinds& archive_kinds();

// `section` is the archive object where it sits (its path, e.g. "archive", names errors).
std::unique_ptr<ArchiveSpec> parse_archive_spec(const common::JsonValue& section);

// Parses and builds in one step (tools and tests).
std::unique_ptr<Archive> make_archive(const nlohmann::json& section, const std::string& key_path);

// The same geometry as `archive` with plain MAP-Elites thresholds (learning_rate 1,
// threshold_min -inf): the CMA-MAE result archive that keeps the true elites. A CVT's
// centroids are copied, not computed again; a novelty archive gets a fresh twin.
std::unique_ptr<Archive> make_result_archive(const Archive& archive);

}  // namespace qdgen::archive
