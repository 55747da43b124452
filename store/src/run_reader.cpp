#include "qdgen/store/run_reader.hpp"

#include <deque>
#include <unordered_set>
#include <utility>

#include "candidate_codec.hpp"
#include "qdgen/io/json_text.hpp"
#include "run_file.hpp"
#include "sqlite_db.hpp"

namespace qdgen::store {

namespace {

using nlohmann::json;

json parse_iteration_json(std::string_view text, const std::string& file, std::int64_t iteration,
                          const char* column) {
  try {
    return io::parse_json(text);
  } catch (const json::parse_error& e) {
    throw RunStoreError(file + ": iteration " + std::to_string(iteration) + ", column " + column +
                        ": not JSON (parse error at byte " + std::to_string(e.byte) + ")");
  }
}

}  // namespace

struct RunReader::Impl {
  explicit Impl(const std::filesystem::path& path) : db(path, SQLITE_OPEN_READONLY) {
    check_is_readable_run(db);
  }

  // Runs `select` and decodes each row's candidate, whose columns start at `first`.
  template <typename Visit>
  void visit_candidates(SqliteStatement& select, int first, Visit&& visit) {
    while (select.step()) visit(codec::decode(select, first, db.file()));
  }

  std::size_t query_size(const std::string& sql) {
    const std::int64_t n = db.query_int(sql);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  SqliteDb db;
  int snapshot_depth = 0;
};

RunReader::RunReader(const std::filesystem::path& path) {
  check_run_path(path);
  impl_ = std::make_unique<Impl>(path);
}

RunReader::~RunReader() = default;
RunReader::RunReader(RunReader&&) noexcept = default;
RunReader& RunReader::operator=(RunReader&&) noexcept = default;

RunInfo RunReader::info() const {
  return read_run_info(impl_->db);
}

void RunReader::for_each_iteration(const std::function<void(const IterationRow&)>& visit) const {
  SqliteStatement select = impl_->db.prepare(
      "SELECT iteration, committed, num_candidates, num_added, num_new, metrics, timings "
      "FROM iteration ORDER BY iteration");
  const std::string& file = impl_->db.file();
  while (select.step()) {
    IterationRow row;
    row.iteration = select.int64(0);
    row.committed = select.text(1);
    row.num_candidates = select.int64(2);
    row.num_added = select.int64(3);
    row.num_new = select.int64(4);
    row.metrics = parse_iteration_json(select.text_view(5), file, row.iteration, "metrics");
    row.timings = parse_iteration_json(select.text_view(6), file, row.iteration, "timings");
    visit(row);
  }
}

std::vector<IterationRow> RunReader::iterations() const {
  std::vector<IterationRow> rows;
  for_each_iteration([&](const IterationRow& row) { rows.push_back(row); });
  return rows;
}

void RunReader::for_each_elite(const std::function<void(const StoredElite&)>& visit) const {
  SqliteStatement select = impl_->db.prepare("SELECT e.cell, e.iteration, " + codec::columns("c.") +
                                             " FROM elite e JOIN candidate c USING (candidate_id) "
                                             "ORDER BY e.cell");
  while (select.step()) {
    StoredElite elite;
    elite.cell = select.int64(0);
    elite.iteration = select.int64(1);
    elite.candidate = codec::decode(select, 2, impl_->db.file());
    visit(elite);
  }
}

std::vector<StoredElite> RunReader::elites() const {
  std::vector<StoredElite> elites;
  for_each_elite([&](const StoredElite& elite) { elites.push_back(elite); });
  return elites;
}

std::optional<StoredCandidate> RunReader::candidate(std::int64_t id) const {
  SqliteStatement select =
      impl_->db.prepare("SELECT " + codec::columns() + " FROM candidate WHERE candidate_id = ?");
  select.bind(1, id);
  std::optional<StoredCandidate> found;
  impl_->visit_candidates(select, 0, [&](StoredCandidate&& c) { found = std::move(c); });
  return found;
}

std::vector<StoredCandidate> RunReader::candidates_of_iteration(std::int64_t iteration) const {
  SqliteStatement select = impl_->db.prepare("SELECT " + codec::columns() +
                                             " FROM candidate WHERE iteration = ? "
                                             "ORDER BY batch_index");
  select.bind(1, iteration);
  std::vector<StoredCandidate> batch;
  impl_->visit_candidates(select, 0, [&](StoredCandidate&& c) { batch.push_back(std::move(c)); });
  return batch;
}

void RunReader::for_each_candidate(const std::function<void(const StoredCandidate&)>& visit) const {
  SqliteStatement select =
      impl_->db.prepare("SELECT " + codec::columns() + " FROM candidate ORDER BY candidate_id");
  impl_->visit_candidates(select, 0, [&](const StoredCandidate& c) { visit(c); });
}

std::int64_t RunReader::candidate_count() const {
  return impl_->db.query_int("SELECT count(*) FROM candidate");
}

std::size_t RunReader::max_candidate_measures() const {
  return impl_->query_size("SELECT max(json_array_length(measures)) FROM candidate");
}

std::size_t RunReader::max_elite_measures() const {
  return impl_->query_size(
      "SELECT max(json_array_length(c.measures)) FROM elite e JOIN candidate c "
      "USING (candidate_id)");
}

std::vector<Ancestor> RunReader::lineage(std::int64_t id) const {
  SqliteStatement select = impl_->db.prepare(
      "SELECT iteration, operator, parent_ids FROM candidate WHERE candidate_id = ?");
  std::vector<Ancestor> lineage;
  std::unordered_set<std::int64_t> seen;
  std::deque<std::pair<std::int64_t, int>> queue = {{id, 0}};
  while (!queue.empty()) {
    const auto [next, generation] = queue.front();
    queue.pop_front();
    if (!seen.insert(next).second) continue;
    Ancestor ancestor;
    ancestor.id = next;
    ancestor.generation = generation;
    select.bind(1, next);
    if (select.step()) {
      ancestor.iteration = select.int64(0);
      ancestor.op = select.text(1);
      ancestor.parents = codec::decode_parents(select.text_view(2), next, impl_->db.file());
      for (const std::int64_t parent : ancestor.parents) queue.emplace_back(parent, generation + 1);
    } else {
      if (generation == 0) return {};
      ancestor.stored = false;
    }
    select.reset();
    lineage.push_back(std::move(ancestor));
  }
  return lineage;
}

RunReader::Snapshot::Snapshot(const RunReader& reader) : reader_(reader) {
  // Nested snapshots share the outermost one's read transaction.
  if (reader_.impl_->snapshot_depth > 0) {
    ++reader_.impl_->snapshot_depth;
    return;
  }
  SqliteDb& db = reader_.impl_->db;
  db.exec("BEGIN");
  try {
    // A read transaction starts at its first read: make it now, not at the caller's first.
    db.query_int("SELECT count(*) FROM meta");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  reader_.impl_->snapshot_depth = 1;
}

RunReader::Snapshot::~Snapshot() {
  if (--reader_.impl_->snapshot_depth == 0) {
    try {
      reader_.impl_->db.exec("COMMIT");
    } catch (...) {
      // Ending a read transaction changes nothing; SQLite has ended it on any error.
    }
  }
}

}  // namespace qdgen::store
