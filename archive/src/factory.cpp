// The archive kinds, and building what they describe.
#include "qdgen/archive/factory.hpp"

#include <stdexcept>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/archive/novelty_archive.hpp"

namespace qdgen::archive {

// Each kind's file defines its spec, parser and builder; this list registers them.
ArchiveKinds::Kind grid_archive_kind();
ArchiveKinds::Kind cvt_archive_kind();
ArchiveKinds::Kind novelty_archive_kind();

const ArchiveKinds& archive_kinds() {
  static const ArchiveKinds kinds(
      "type", {grid_archive_kind(), cvt_archive_kind(), novelty_archive_kind()});
  return kinds;
}

std::unique_ptr<ArchiveSpec> parse_archive_spec(const common::JsonValue& section) {
  if (!section.json().is_object()) section.expected("an object with a \"type\"");
  common::JsonReader reader(section);
  return archive_kinds().parse(reader);
}

std::unique_ptr<Archive> make_archive(const nlohmann::json& section, const std::string& key_path) {
  return parse_archive_spec(common::JsonValue(section, "", key_path))->build();
}

std::unique_ptr<Archive> make_result_archive(const Archive& archive) {
  if (const auto* novelty = dynamic_cast<const NoveltyArchive*>(&archive))
    return std::make_unique<NoveltyArchive>(novelty->measure_dim(), novelty->options());
  const auto* cells = dynamic_cast<const CellArchive*>(&archive);
  if (cells == nullptr) throw std::invalid_argument("make_result_archive: unknown archive kind");
  ThresholdOptions plain;
  plain.qd_offset = cells->threshold_options().qd_offset;
  if (const auto* cvt = dynamic_cast<const CvtArchive*>(&archive))
    return std::make_unique<CvtArchive>(cvt->centroids(), plain);
  return std::make_unique<GridArchive>(dynamic_cast<const GridArchive&>(archive).dims(), plain);
}

}  // namespace qdgen::archive
