// "type": "novelty": a growing archive of novel members (novelty search, NSLC).
#include "archive_spec_readers.hpp"
#include "qdgen/archive/factory.hpp"
#include "qdgen/archive/novelty_archive.hpp"

namespace qdgen::archive {

namespace {

struct NoveltySpec final : ArchiveSpec {
  int dim = 0;
  NoveltyOptions options;

  std::string type() const override { return "novelty"; }
  int measure_dim() const override { return dim; }
  bool uses_embeddings() const override { return options.space == NoveltySpace::kEmbedding; }
  std::unique_ptr<Archive> build() const override {
    return std::make_unique<NoveltyArchive>(dim, options);
  }
};

std::unique_ptr<ArchiveSpec> parse_novelty(common::JsonReader& section) {
  auto spec = std::make_unique<NoveltySpec>();
  NoveltyOptions& options = spec->options;
  spec->dim = static_cast<int>(section.integer("measure_dim", 1, kMaxMeasureDim));
  const common::JsonValue threshold = section.required("threshold");
  options.threshold = threshold.number();
  if (options.threshold < 0) threshold.expected("a number >= 0");
  options.k = static_cast<int>(section.integer("k", 1, kMaxNoveltyNeighbours, options.k));
  options.local_competition = section.boolean("local_competition", false);
  options.space = section.choice("space", {"measures", "embedding"}, "measures") == "embedding"
                      ? NoveltySpace::kEmbedding
                      : NoveltySpace::kMeasures;
  options.max_size = section.integer("max_size", 1, kMaxNoveltyMembers, 0);
  options.qd_offset = section.number("qd_offset", 0.0);
  return spec;
}

}  // namespace

ArchiveKinds::Kind novelty_archive_kind() {
  return {"novelty", parse_novelty};
}

}  // namespace qdgen::archive
