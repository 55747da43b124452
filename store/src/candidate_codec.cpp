#include "candidate_codec.hpp"

#include <array>
#include <cstdint>
#include <limits>

#include "little_endian.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/io/utf8.hpp"

namespace qdgen::store::codec {

namespace {

using archive::AddResult;
using archive::AddStatus;
using archive::Candidate;
using nlohmann::json;

constexpr std::array<const char*, kColumnCount> kColumns = {
    "candidate_id",  "iteration", "batch_index",   "parent_ids",  "operator", "solution",
    "solution_text", "objective", "measures",      "embedding",   "metadata", "status",
    "value",         "cell",      "result_status", "result_value"};

// Offsets of the columns within kColumns.
enum Column : int {
  kId,
  kIteration,
  kBatchIndex,
  kParents,
  kOperator,
  kSolution,
  kSolutionText,
  kObjective,
  kMeasures,
  kEmbedding,
  kMetadata,
  kStatus,
  kValue,
  kCell,
  kResultStatus,
  kResultValue
};

[[noreturn]] void bad_value(const std::string& file, std::int64_t id, int column,
                            const std::string& what) {
  throw RunStoreError(file + ": candidate " + std::to_string(id) + ", column " +
                      kColumns[static_cast<std::size_t>(column)] + ": " + what);
}

json parse_json(std::string_view text, const std::string& file, std::int64_t id, int column) {
  try {
    return io::parse_json(text);
  } catch (const json::parse_error& e) {
    bad_value(file, id, column, "not JSON (parse error at byte " + std::to_string(e.byte) + ")");
  }
}

template <typename Vector>
Vector vector_of(const SqliteStatement& row, int first, int column, const std::string& file,
                 std::int64_t id) {
  try {
    return from_blob<Vector>(row.blob_view(first + column));
  } catch (const std::runtime_error& e) {
    bad_value(file, id, column, e.what());
  }
}

double real_or_nan(const SqliteStatement& row, int column) {
  return row.is_null(column) ? std::numeric_limits<double>::quiet_NaN() : row.real(column);
}

std::string metadata_text(const Candidate& c) {
  // The common cases need no copy of the candidate's metadata.
  if (c.emitter < 0) return c.metadata.is_null() ? std::string("{}") : io::dump_json(c.metadata);
  return io::dump_json(stored_metadata(c));
}

}  // namespace

std::string columns(std::string_view prefix) {
  std::string list;
  for (const char* name : kColumns) {
    if (!list.empty()) list += ", ";
    list += prefix;
    list += name;
  }
  return list;
}

json stored_metadata(const Candidate& c) {
  if (c.emitter < 0) return c.metadata.is_null() ? json::object() : c.metadata;
  json stored = c.metadata.is_object() ? c.metadata : json::object();
  stored["emitter"] = c.emitter;
  return stored;
}

void encode(SqliteStatement& s, const Candidate& c, const Placement& where) {
  s.bind(1 + kId, c.id)
      .bind(1 + kIteration, where.iteration)
      .bind(1 + kBatchIndex, where.batch_index);
  s.bind(1 + kParents, json(c.parents).dump()).bind(1 + kOperator, c.op);
  if (const auto* text = std::get_if<std::string>(&c.solution)) {
    s.bind_null(1 + kSolution).bind(1 + kSolutionText, *text);
  } else {
    s.bind_blob(1 + kSolution, to_blob(std::get<Eigen::VectorXd>(c.solution)))
        .bind_null(1 + kSolutionText);
  }
  s.bind(1 + kObjective, c.objective);
  s.bind(
      1 + kMeasures,
      json(std::vector<double>(c.measures.data(), c.measures.data() + c.measures.size())).dump());
  if (c.embedding)
    s.bind_blob(1 + kEmbedding, to_blob(*c.embedding));
  else
    s.bind_null(1 + kEmbedding);
  s.bind(1 + kMetadata, metadata_text(c));
  const AddResult& r = *where.outcome;
  s.bind(1 + kStatus, static_cast<std::int64_t>(r.status))
      .bind(1 + kValue, r.value)
      .bind(1 + kCell, r.cell);
  if (where.result_outcome == nullptr) {
    s.bind_null(1 + kResultStatus).bind_null(1 + kResultValue);
  } else {
    s.bind(1 + kResultStatus, static_cast<std::int64_t>(where.result_outcome->status))
        .bind(1 + kResultValue, where.result_outcome->value);
  }
}

std::vector<std::int64_t> decode_parents(std::string_view text, std::int64_t id,
                                         const std::string& file) {
  const json parents = parse_json(text, file, id, kParents);
  if (!parents.is_array()) bad_value(file, id, kParents, "expected a JSON array of candidate ids");
  std::vector<std::int64_t> ids;
  ids.reserve(parents.size());
  for (const json& parent : parents) {
    if (!parent.is_number_integer())
      bad_value(file, id, kParents,
                "expected a JSON array of candidate ids, got " + std::string(text));
    ids.push_back(parent.get<std::int64_t>());
  }
  return ids;
}

StoredCandidate decode(const SqliteStatement& row, int first, const std::string& file) {
  StoredCandidate stored;
  Candidate& c = stored.candidate;
  c.id = row.int64(first + kId);
  c.iteration = row.int64(first + kIteration);
  stored.batch_index = row.int64(first + kBatchIndex);
  c.parents = decode_parents(row.text_view(first + kParents), c.id, file);
  // Texts come back valid UTF-8 even from a file written before the store repaired them.
  c.op = io::valid_utf8(row.text_view(first + kOperator));
  if (!row.is_null(first + kSolutionText))
    c.solution = io::valid_utf8(row.text_view(first + kSolutionText));
  else
    c.solution = vector_of<Eigen::VectorXd>(row, first, kSolution, file, c.id);
  c.objective = row.real(first + kObjective);

  const json measures = parse_json(row.text_view(first + kMeasures), file, c.id, kMeasures);
  if (!measures.is_array()) bad_value(file, c.id, kMeasures, "expected a JSON array of numbers");
  c.measures.resize(static_cast<Eigen::Index>(measures.size()));
  for (std::size_t i = 0; i < measures.size(); ++i) {
    const json& m = measures[i];
    if (!m.is_number() && !m.is_null())
      bad_value(file, c.id, kMeasures, "expected a JSON array of numbers, got " + m.dump());
    c.measures[static_cast<Eigen::Index>(i)] =
        m.is_null() ? std::numeric_limits<double>::quiet_NaN() : m.get<double>();
  }
  if (!row.is_null(first + kEmbedding))
    c.embedding = vector_of<Eigen::VectorXf>(row, first, kEmbedding, file, c.id);

  c.metadata = parse_json(row.text_view(first + kMetadata), file, c.id, kMetadata);
  if (c.metadata.is_object()) {
    // Only what encode() writes goes back out: an index a candidate's own metadata could not
    // mean, such as -1, stays in the metadata.
    const auto emitter = c.metadata.find("emitter");
    if (emitter != c.metadata.end() && emitter->is_number_unsigned() &&
        emitter->get<std::uint64_t>() <=
            static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
      c.emitter = static_cast<std::int32_t>(emitter->get<std::uint64_t>());
      c.metadata.erase(emitter);
    }
    if (c.metadata.empty()) c.metadata = nullptr;  // written as {}
  }

  stored.outcome.status = static_cast<AddStatus>(row.int64(first + kStatus));
  stored.outcome.value = real_or_nan(row, first + kValue);
  stored.outcome.cell = row.int64(first + kCell);
  if (!row.is_null(first + kResultStatus)) {
    AddResult result;
    result.status = static_cast<AddStatus>(row.int64(first + kResultStatus));
    result.value = real_or_nan(row, first + kResultValue);
    result.cell = stored.outcome.cell;
    stored.result_outcome = result;
  }
  return stored;
}

}  // namespace qdgen::store::codec
