#include "qdgen/store/run_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>

#include "candidate_codec.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/io/utf8.hpp"
#include "qdgen/version.hpp"
#include "run_file.hpp"
#include "run_store_schema.hpp"
#include "sqlite_db.hpp"
#include "writer_lock.hpp"

namespace qdgen::store {

using archive::AddStatus;
using archive::Candidate;

namespace {

using nlohmann::json;

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

class SqliteRunStore final : public RunStore {
 public:
  // A writer holds `lock` for as long as it lives; a read-only store takes none.
  SqliteRunStore(const std::filesystem::path& path, std::unique_ptr<WriterLock> lock)
      : lock_(std::move(lock)),
        db_(path, lock_ ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY),
        read_only_(!lock_) {
    check_is_readable_run(db_);
    // WAL with NORMAL: a commit is durable against a killed process (what resume is for);
    // only a power loss or OS crash may roll back the last iterations, never corrupt the
    // file. FULL's fsync per iteration cost a quarter of a stored sphere run.
    if (!read_only_) db_.exec("PRAGMA synchronous = NORMAL");
  }

  RunInfo info() const override { return read_run_info(db_); }

  void commit(const IterationRecord& record) override {
    require_writable();
    const std::size_t n = record.candidates.size();
    if (record.add_results.size() != n)
      throw RunStoreError(db_.file() + ": iteration " + std::to_string(record.iteration) + " has " +
                          std::to_string(n) + " candidates but " +
                          std::to_string(record.add_results.size()) + " add results");
    if (!record.result_add_results.empty() && record.result_add_results.size() != n)
      throw RunStoreError(db_.file() + ": iteration " + std::to_string(record.iteration) + " has " +
                          std::to_string(n) + " candidates but " +
                          std::to_string(record.result_add_results.size()) +
                          " result-archive add results");
    const std::optional<std::int64_t> last = info_last_iteration();
    if (last && record.iteration <= *last)
      throw RunStoreError(db_.file() + ": iteration " + std::to_string(record.iteration) +
                          " is not after the last committed iteration " + std::to_string(*last));
    const bool keep_all = keep_ == KeepCandidates::kAll;

    const bool began = !in_transaction_;
    if (began) {
      db_.exec("BEGIN IMMEDIATE");
      in_transaction_ = true;
      transaction_began_ = std::chrono::steady_clock::now();
    }
    db_.exec("SAVEPOINT iteration");
    try {
      std::int64_t added = 0, fresh = 0;
      for (std::size_t i = 0; i < n; ++i) {
        added += entered(record, i);
        fresh += record.add_results[i].status == AddStatus::kNew ||
                 (!record.result_add_results.empty() &&
                  record.result_add_results[i].status == AddStatus::kNew);
      }
      insert_iteration_->bind(1, record.iteration)
          .bind(2, utc_now())
          .bind(3, static_cast<std::int64_t>(n))
          .bind(4, added)
          .bind(5, fresh)
          .bind(6, io::dump_json(record.metrics))
          .bind(7, io::dump_json(record.timings))
          .bind(8, record.rng_state)
          .bind(9, io::dump_json(record.engine_state));
      insert_iteration_->step();
      insert_iteration_->reset();
      // Resume needs only the last engine state, and CMA-ES emitters' state runs to
      // megabytes per iteration: the previous row's is dropped in this same transaction.
      if (last) {
        clear_engine_state_->bind(1, *last);
        clear_engine_state_->step();
        clear_engine_state_->reset();
      }

      for (std::size_t i = 0; i < n; ++i)
        if (keep_all || entered(record, i)) insert_candidate(record, i);

      // The elite table follows the archive of true elites: per cell, the best candidate
      // that entered (first on ties), as the archives themselves choose.
      const auto& outcome =
          record.result_add_results.empty() ? record.add_results : record.result_add_results;
      std::map<std::int64_t, std::size_t> winner;
      for (std::size_t i = 0; i < n; ++i) {
        if (outcome[i].status == AddStatus::kNotAdded) continue;
        auto [it, inserted] = winner.emplace(outcome[i].cell, i);
        if (!inserted && record.candidates[i].objective > record.candidates[it->second].objective)
          it->second = i;
      }
      for (const auto& [cell, i] : winner) {
        upsert_elite_->bind(1, cell).bind(2, record.candidates[i].id).bind(3, record.iteration);
        upsert_elite_->step();
        upsert_elite_->reset();
      }
      for (const std::int64_t id : record.removed_candidate_ids) {
        delete_elite_->bind(1, id);
        delete_elite_->step();
        delete_elite_->reset();
      }
      touch_run();
      db_.exec("RELEASE iteration");
    } catch (...) {
      insert_iteration_->reset();
      insert_candidate_->reset();
      upsert_elite_->reset();
      delete_elite_->reset();
      clear_engine_state_->reset();
      touch_run_->reset();
      // Undo this iteration only; the ones before it in the group stay and are committed.
      try {
        db_.exec("ROLLBACK TO iteration");
        db_.exec("RELEASE iteration");
        flush();
      } catch (...) {
        if (in_transaction_) {
          in_transaction_ = false;
          try {
            db_.exec("ROLLBACK");
          } catch (...) {
            // Nothing more to undo here: the file holds the last committed iteration.
          }
        }
      }
      throw;
    }
    const std::chrono::duration<double> age = std::chrono::steady_clock::now() - transaction_began_;
    if (age.count() >= commit_interval_seconds_) flush();
  }

  void flush() override {
    if (in_transaction_) end_transaction();
  }

  void set_commit_interval(double seconds) override { commit_interval_seconds_ = seconds; }

  ~SqliteRunStore() override {
    try {
      flush();
    } catch (...) {
      // A destructor must not throw; the uncommitted iterations are lost, as in a crash.
    }
  }

  void set_status(RunStatus status) override {
    require_writable();
    flush();
    SqliteStatement update = db_.prepare("UPDATE run SET status = ?, updated = ?");
    update.bind(1, to_string(status)).bind(2, utc_now());
    update.step();
    if (status != RunStatus::kFailed) db_.exec("DELETE FROM meta WHERE key = 'failure'");
  }

  void mark_failed(const std::string& reason) override {
    set_status(RunStatus::kFailed);
    SqliteStatement insert =
        db_.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('failure', ?)");
    insert.bind(1, io::valid_utf8(reason));
    insert.step();
  }

  std::vector<std::vector<Candidate>> added_candidates_by_iteration() const override {
    SqliteStatement select = db_.prepare("SELECT " + codec::columns() +
                                         " FROM candidate WHERE status > 0 OR result_status > 0 "
                                         "ORDER BY iteration, batch_index");
    std::vector<std::vector<Candidate>> batches;
    std::int64_t current = 0;
    while (select.step()) {
      Candidate c = codec::decode(select, 0, db_.file()).candidate;
      if (batches.empty() || c.iteration != current) {
        batches.emplace_back();
        current = c.iteration;
      }
      batches.back().push_back(std::move(c));
    }
    return batches;
  }

  std::string last_rng_state() const override {
    return db_.query_text("SELECT rng_state FROM iteration ORDER BY iteration DESC LIMIT 1")
        .value_or("");
  }

  json last_engine_state() const override {
    const auto text =
        db_.query_text("SELECT engine_state FROM iteration ORDER BY iteration DESC LIMIT 1");
    return text ? io::parse_json(*text) : json::object();
  }

  void prepare_writes() {
    keep_ = info().keep_candidates;
    insert_iteration_ = db_.prepare_kept(
        "INSERT INTO iteration (iteration, committed, num_candidates, num_added, num_new, "
        "metrics, timings, rng_state, engine_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    std::string placeholders = "?";
    for (int i = 1; i < codec::kColumnCount; ++i) placeholders += ", ?";
    insert_candidate_ = db_.prepare_kept("INSERT INTO candidate (" + codec::columns() +
                                         ") VALUES (" + placeholders + ")");
    upsert_elite_ = db_.prepare_kept(
        "INSERT INTO elite (cell, candidate_id, iteration) VALUES (?, ?, ?) "
        "ON CONFLICT (cell) DO UPDATE SET candidate_id = excluded.candidate_id, "
        "iteration = excluded.iteration");
    delete_elite_ = db_.prepare_kept("DELETE FROM elite WHERE candidate_id = ?");
    clear_engine_state_ =
        db_.prepare_kept("UPDATE iteration SET engine_state = '{}' WHERE iteration = ?");
    touch_run_ = db_.prepare_kept("UPDATE run SET updated = ?");
    select_last_ = db_.prepare_kept("SELECT max(iteration) FROM iteration");
  }

 private:
  // Candidate i entered one of the archives (what resume replays).
  static bool entered(const IterationRecord& record, std::size_t i) {
    return record.add_results[i].status != AddStatus::kNotAdded ||
           (!record.result_add_results.empty() &&
            record.result_add_results[i].status != AddStatus::kNotAdded);
  }

  void insert_candidate(const IterationRecord& record, std::size_t i) {
    codec::Placement where;
    where.iteration = record.iteration;
    where.batch_index = static_cast<std::int64_t>(i);
    where.outcome = &record.add_results[i];
    if (!record.result_add_results.empty()) where.result_outcome = &record.result_add_results[i];
    codec::encode(*insert_candidate_, record.candidates[i], where);
    insert_candidate_->step();
    insert_candidate_->reset();
  }

  // Both statements run once per commit: kept prepared, reset after each use.
  void touch_run() {
    touch_run_->bind(1, utc_now());
    touch_run_->step();
    touch_run_->reset();
  }

  std::optional<std::int64_t> info_last_iteration() const {
    std::optional<std::int64_t> last;
    if (select_last_->step() && !select_last_->is_null(0)) last = select_last_->int64(0);
    select_last_->reset();
    return last;
  }

  // Commits the open transaction. It counts as ended even when COMMIT fails: what SQLite did
  // not roll back itself is rolled back here, and the file keeps the last committed state.
  void end_transaction() {
    in_transaction_ = false;
    try {
      db_.exec("COMMIT");
    } catch (...) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
        // SQLite had already rolled the transaction back.
      }
      throw;
    }
  }

  void require_writable() const {
    if (read_only_) throw RunStoreError(db_.file() + ": opened read-only");
  }

  std::unique_ptr<WriterLock> lock_;  // released after db_ is closed
  mutable SqliteDb db_;
  bool read_only_;
  KeepCandidates keep_ = KeepCandidates::kAll;
  bool in_transaction_ = false;  // iterations written but not yet committed
  std::chrono::steady_clock::time_point transaction_began_;
  double commit_interval_seconds_ = 0.0;
  std::unique_ptr<SqliteStatement> insert_iteration_, insert_candidate_, upsert_elite_,
      delete_elite_, clear_engine_state_, touch_run_, select_last_;
};

void write_new_run(const std::filesystem::path& file, const json& config, std::uint64_t seed,
                   const RunStoreOptions& options) {
  SqliteDb db(file, SQLITE_OPEN_READWRITE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("BEGIN");
  db.exec(kRunStoreSchemaSql);
  const std::string now = utc_now();
  SqliteStatement meta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"application", "qdgen"},
                                   {"schema_version", std::to_string(kRunStoreSchemaVersion)},
                                   {"qdgen_version", kVersion}}) {
    meta.bind(1, key).bind(2, value);
    meta.step();
    meta.reset();
  }
  SqliteStatement run = db.prepare(
      "INSERT INTO run (run_id, config, seed, created, qdgen_version, status, keep_candidates, "
      "updated) VALUES (1, ?, ?, ?, ?, 'running', ?, ?)");
  // Seeds are unsigned 64-bit; SQLite integers are signed, so the bits are kept as is.
  run.bind(1, io::dump_json(config))
      .bind(2, static_cast<std::int64_t>(seed))
      .bind(3, now)
      .bind(4, std::string(kVersion))
      .bind(5, to_string(options.keep_candidates))
      .bind(6, now);
  run.step();
  db.exec("PRAGMA user_version = " + std::to_string(kRunStoreSchemaVersion));
  db.exec("COMMIT");
}

}  // namespace

std::unique_ptr<RunStore> RunStore::create(const std::filesystem::path& path,
                                           const nlohmann::json& config, std::uint64_t seed) {
  return create(path, config, seed, RunStoreOptions{});
}

std::unique_ptr<RunStore> RunStore::create(const std::filesystem::path& path,
                                           const nlohmann::json& config, std::uint64_t seed,
                                           const RunStoreOptions& options) {
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, error)))
    throw RunStoreError(path.string() + ": already exists; a new run needs a new file");
  // A config names its store as runs/NAME.sqlite: the folder is made as `mkdir -p` would.
  if (const auto folder = path.parent_path(); !folder.empty()) {
    std::filesystem::create_directories(folder, error);
    if (error)
      throw RunStoreError(path.string() + ": cannot create its folder " + folder.string() + " (" +
                          error.message() + ")");
  }
  auto lock = std::make_unique<WriterLock>(path);
  // Written under a temporary name and linked into place, so a crash never leaves a
  // half-made run at `path`, and link() refuses to replace a file that appeared meanwhile.
  // The file gets 0666 less the umask, like any other tool's (and SQLite gives its -wal and
  // -shm files the same).
  std::filesystem::path temporary;
  try {
    io::CreatedFile created = io::create_file_beside(path, ".creating-");
    ::close(created.fd);
    temporary = std::move(created.path);
  } catch (const std::runtime_error& e) {
    throw RunStoreError(e.what());
  }
  try {
    write_new_run(temporary, config, seed, options);
  } catch (...) {
    std::filesystem::remove(temporary, error);
    throw;
  }
  const int linked = ::link(temporary.c_str(), path.c_str());
  const int link_errno = errno;
  std::filesystem::remove(temporary, error);
  if (linked != 0)
    throw RunStoreError(path.string() + ": cannot create (" + std::strerror(link_errno) + ")");
  auto store = std::make_unique<SqliteRunStore>(path, std::move(lock));
  store->prepare_writes();
  store->set_commit_interval(options.commit_interval_seconds);
  return store;
}

std::unique_ptr<RunStore> RunStore::open_for_resume(const std::filesystem::path& path) {
  check_run_path(path);
  check_run_writable(path);
  // Locked before the checks, so that no writer can finish the run between them and here.
  auto lock = std::make_unique<WriterLock>(path);
  {
    // Every check runs on a read-only connection: a file that fails one is never touched.
    SqliteRunStore reader(path, nullptr);
    const RunInfo info = reader.info();
    if (info.status == RunStatus::kFinished)
      throw RunStoreError(path.string() + ": the run is finished; nothing to resume");
  }
  auto store = std::make_unique<SqliteRunStore>(path, std::move(lock));
  store->prepare_writes();
  return store;
}

std::unique_ptr<RunStore> RunStore::open_read_only(const std::filesystem::path& path) {
  check_run_path(path);
  return std::make_unique<SqliteRunStore>(path, nullptr);
}

}  // namespace qdgen::store
