#pragma once
// The one encoding of a candidate in the candidate table (README "Run store schema"): the
// writer encodes with it; resume, RunReader and export decode with it.
//   solution / solution_text  float64 little-endian BLOB for a numeric solution, TEXT for a
//                             text; the other NULL (SQLite binds an empty BLOB as NULL too)
//   measures                  JSON array; a non-finite measure is written null, read as NaN
//   embedding                 float32 little-endian BLOB, or NULL
//   metadata                  JSON: the candidate's own, plus "emitter" when an emitter made
//                             it; {} when there is neither
//   parent_ids                JSON array of candidate ids
//   value, result_value       REAL; SQLite stores NaN as NULL, read back as NaN

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "qdgen/store/run_reader.hpp"
#include "sqlite_db.hpp"

namespace qdgen::store::codec {

inline constexpr int kColumnCount = 16;

// The candidate table's columns in the order encode() binds and decode() reads them, each
// name prefixed (e.g. "c." for a table alias in a join).
std::string columns(std::string_view prefix = "");

// Where a candidate sits in its iteration and what the archives made of it.
struct Placement {
  std::int64_t iteration = 0;
  std::int64_t batch_index = 0;
  const archive::AddResult* outcome = nullptr;         // required
  const archive::AddResult* result_outcome = nullptr;  // none: the run keeps one archive
};

// Binds parameters 1 .. kColumnCount of an INSERT over columns().
void encode(SqliteStatement& insert, const archive::Candidate& candidate, const Placement& where);

// Reads columns first .. first + kColumnCount - 1 of a row selected with columns(). Throws
// RunStoreError naming the file, the candidate and the column for a value it cannot read.
StoredCandidate decode(const SqliteStatement& row, int first, const std::string& file);

// A parent_ids value (JSON array of ids); `id` and `file` name the row in errors.
std::vector<std::int64_t> decode_parents(std::string_view text, std::int64_t id,
                                         const std::string& file);

// The metadata as the store holds it (decode moves "emitter" back out of it).
nlohmann::json stored_metadata(const archive::Candidate& candidate);

}  // namespace qdgen::store::codec
