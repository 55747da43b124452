#pragma once
// Tables of a run file as CSV (RFC 4180, header row, CRLF) or JSON Lines, for
// `qdgen export` and anyone who wants the run outside SQLite.
//  elites:     cell, candidate_id, iteration, objective, measure_0.., operator, parent_ids,
//              solution, metadata
//  candidates: candidate_id, iteration, batch_index, status, value, cell, result_status,
//              result_value, objective, measure_0.., operator, parent_ids, solution, metadata
//  iterations: iteration, committed, num_candidates, num_added, num_new, one column per
//              metrics key, time_<key> per timings key
// CSV cells hold JSON for arrays and objects (a numeric solution is a JSON array, a text
// solution the text itself); JSONL keeps measures as an array and metrics as an object.

#include <filesystem>
#include <ostream>
#include <string>

namespace qdgen::store {

enum class ExportTable { kElites, kCandidates, kIterations };
enum class ExportFormat { kCsv, kJsonl };

// Opens the run read-only through RunReader (works while a run is being written: one snapshot
// of it is exported) and writes each row as it is read, candidates in id order, so memory
// stays flat in the size of the run. Throws RunStoreError with a one-line message for a file
// that is not a readable qdgen run, a stored value it cannot read, or a failed write.
void export_run(const std::filesystem::path& run_file, ExportTable table, ExportFormat format,
                std::ostream& out);

}  // namespace qdgen::store
