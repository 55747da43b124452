#include "qdgen/store/run_export.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "little_endian.hpp"
#include "qdgen/store/run_store.hpp"
#include "sqlite_db.hpp"

namespace qdgen::store {

namespace {

using nlohmann::json;
using Row = std::vector<std::pair<std::string, json>>;  // column name -> value, in order

std::string csv_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return json(value).dump();  // shortest text that reads back to the same double
}

std::string csv_field(const json& value) {
  std::string text;
  if (value.is_null())
    text = "";
  else if (value.is_string())
    text = value.get<std::string>();
  else if (value.is_number_float())
    text = csv_number(value.get<double>());
  else
    text = value.dump();
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

json real_or_null(const SqliteStatement& s, int column) {
  return s.is_null(column) ? json() : json(s.real(column));
}
json int_or_null(const SqliteStatement& s, int column) {
  return s.is_null(column) ? json() : json(s.int64(column));
}

json solution_of(const SqliteStatement& s, int blob_column, int text_column) {
  if (!s.is_null(text_column)) return s.text(text_column);
  if (s.is_null(blob_column)) return json();
  const Eigen::VectorXd values = from_blob<Eigen::VectorXd>(s.blob(blob_column));
  return std::vector<double>(values.data(), values.data() + values.size());
}

// Shared tail of elite and candidate rows; `first` is the objective's column.
void append_candidate_columns(const SqliteStatement& s, int first, Row& row) {
  row.emplace_back("objective", s.real(first));
  row.emplace_back("measures", json::parse(s.text(first + 1)));
  row.emplace_back("operator", s.text(first + 2));
  row.emplace_back("parent_ids", json::parse(s.text(first + 3)));
  row.emplace_back("solution", solution_of(s, first + 4, first + 5));
  row.emplace_back("metadata", json::parse(s.text(first + 6)));
}

constexpr const char* kCandidateColumns =
    "c.objective, c.measures, c.operator, c.parent_ids, c.solution, c.solution_text, c.metadata";

std::vector<Row> read_rows(SqliteDb& db, ExportTable table) {
  std::vector<Row> rows;
  if (table == ExportTable::kIterations) {
    SqliteStatement s = db.prepare(
        "SELECT iteration, committed, num_candidates, num_added, num_new, metrics, timings "
        "FROM iteration ORDER BY iteration");
    while (s.step()) {
      Row row = {{"iteration", s.int64(0)},
                 {"committed", s.text(1)},
                 {"num_candidates", s.int64(2)},
                 {"num_added", s.int64(3)},
                 {"num_new", s.int64(4)},
                 {"metrics", json::parse(s.text(5))},
                 {"timings", json::parse(s.text(6))}};
      rows.push_back(std::move(row));
    }
    return rows;
  }
  if (table == ExportTable::kElites) {
    SqliteStatement s =
        db.prepare(std::string("SELECT e.cell, e.candidate_id, e.iteration, ") + kCandidateColumns +
                   " FROM elite e JOIN candidate c USING (candidate_id) "
                   "ORDER BY e.cell");
    while (s.step()) {
      Row row = {{"cell", s.int64(0)}, {"candidate_id", s.int64(1)}, {"iteration", s.int64(2)}};
      append_candidate_columns(s, 3, row);
      rows.push_back(std::move(row));
    }
    return rows;
  }
  SqliteStatement s = db.prepare(
      std::string("SELECT c.candidate_id, c.iteration, c.batch_index, c.status, c.value, c.cell, "
                  "c.result_status, c.result_value, ") +
      kCandidateColumns + " FROM candidate c ORDER BY c.iteration, c.batch_index");
  while (s.step()) {
    Row row = {{"candidate_id", s.int64(0)},         {"iteration", s.int64(1)},
               {"batch_index", s.int64(2)},          {"status", s.int64(3)},
               {"value", real_or_null(s, 4)},        {"cell", s.int64(5)},
               {"result_status", int_or_null(s, 6)}, {"result_value", real_or_null(s, 7)}};
    append_candidate_columns(s, 8, row);
    rows.push_back(std::move(row));
  }
  return rows;
}

// CSV flattening: measures -> measure_i, metrics keys -> columns, timings -> time_<key>.
Row flatten(const Row& row, std::size_t measure_count) {
  Row flat;
  for (const auto& [name, value] : row) {
    if (name == "measures") {
      for (std::size_t i = 0; i < measure_count; ++i)
        flat.emplace_back("measure_" + std::to_string(i), i < value.size() ? value[i] : json());
    } else if (name == "metrics" && value.is_object()) {
      for (const auto& [key, v] : value.items()) flat.emplace_back(key, v);
    } else if (name == "timings" && value.is_object()) {
      for (const auto& [key, v] : value.items()) flat.emplace_back("time_" + key, v);
    } else {
      flat.emplace_back(name, value);
    }
  }
  return flat;
}

void write_csv(const std::vector<Row>& rows, ExportTable table, std::ostream& out) {
  std::size_t measure_count = 0;
  for (const Row& row : rows)
    for (const auto& [name, value] : row)
      if (name == "measures") measure_count = std::max(measure_count, value.size());
  std::vector<std::string> header;  // first-seen order, so metrics keep their order
  std::set<std::string> seen;
  std::vector<Row> flat;
  for (const Row& row : rows) {
    flat.push_back(flatten(row, measure_count));
    for (const auto& [name, value] : flat.back())
      if (seen.insert(name).second) header.push_back(name);
  }
  if (rows.empty()) {  // still a header, so readers see the columns
    if (table == ExportTable::kIterations)
      header = {"iteration", "committed", "num_candidates", "num_added", "num_new"};
    else if (table == ExportTable::kElites)
      header = {"cell",     "candidate_id", "iteration", "objective",
                "operator", "parent_ids",   "solution",  "metadata"};
    else
      header = {"candidate_id", "iteration",     "batch_index",  "status",    "value",
                "cell",         "result_status", "result_value", "objective", "operator",
                "parent_ids",   "solution",      "metadata"};
  }
  for (std::size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << csv_field(header[i]);
  out << "\r\n";
  for (const Row& row : flat) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i) out << ',';
      for (const auto& [name, value] : row)
        if (name == header[i]) {
          out << csv_field(value);
          break;
        }
    }
    out << "\r\n";
  }
}

void write_jsonl(const std::vector<Row>& rows, std::ostream& out) {
  for (const Row& row : rows) {
    json object = json::object();
    for (const auto& [name, value] : row) {
      // JSON has no infinity: a novelty value of +inf (empty archive) is written as a string.
      if (value.is_number_float() && !std::isfinite(value.get<double>()))
        object[name] = csv_number(value.get<double>());
      else
        object[name] = value;
    }
    out << object.dump() << '\n';
  }
}

}  // namespace

void export_run(const std::filesystem::path& run_file, ExportTable table, ExportFormat format,
                std::ostream& out) {
  RunStore::open_read_only(run_file);  // the checks: exists, SQLite, qdgen, schema version
  SqliteDb db(run_file, SQLITE_OPEN_READONLY);
  // One read transaction, so a run being written shows one consistent snapshot.
  db.exec("BEGIN");
  const std::vector<Row> rows = read_rows(db, table);
  db.exec("COMMIT");
  if (format == ExportFormat::kCsv)
    write_csv(rows, table, out);
  else
    write_jsonl(rows, out);
  if (!out) throw RunStoreError("export: writing the output failed");
}

}  // namespace qdgen::store
