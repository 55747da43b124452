#include "qdgen/store/run_export.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "candidate_codec.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"
#include "qdgen/store/run_reader.hpp"

namespace qdgen::store {

namespace {

using archive::Candidate;
using nlohmann::json;
// One exported row: column names and values, in order; measures stay one JSON array here.
using Row = std::vector<std::pair<std::string, json>>;

// The columns of the two candidate tables, in order; "measures" becomes measure_0, ... in CSV.
const std::vector<std::string> kEliteColumns = {"cell",       "candidate_id", "iteration",
                                                "objective",  "measures",     "operator",
                                                "parent_ids", "solution",     "metadata"};
const std::vector<std::string> kCandidateColumns = {
    "candidate_id", "iteration",     "batch_index",  "status",    "value",
    "cell",         "result_status", "result_value", "objective", "measures",
    "operator",     "parent_ids",    "solution",     "metadata"};
const std::vector<std::string> kIterationColumns = {"iteration", "committed", "num_candidates",
                                                    "num_added", "num_new"};

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
    text = io::valid_utf8(value.get_ref<const std::string&>());
  else if (value.is_number_float())
    text = csv_number(value.get<double>());
  else
    text = io::dump_json(value);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// The store keeps no NaN (SQLite writes it as NULL) and JSON has no non-finite numbers: both
// are exported as null, as they are stored.
json real_or_null(double value) {
  return std::isnan(value) ? json() : json(value);
}

json measures_json(const Eigen::VectorXd& measures) {
  json array = json::array();
  for (const double m : measures) array.push_back(std::isfinite(m) ? json(m) : json());
  return array;
}

json solution_json(const archive::Solution& solution) {
  if (const auto* text = std::get_if<std::string>(&solution)) return *text;
  const auto& values = std::get<Eigen::VectorXd>(solution);
  // An empty numeric solution is stored as NULL (SQLite binds an empty BLOB as NULL).
  if (values.size() == 0) return json();
  return std::vector<double>(values.data(), values.data() + values.size());
}

// Shared tail of elite and candidate rows.
void append_candidate_columns(const Candidate& c, Row& row) {
  row.emplace_back("objective", c.objective);
  row.emplace_back("measures", measures_json(c.measures));
  row.emplace_back("operator", c.op);
  row.emplace_back("parent_ids", c.parents);
  row.emplace_back("solution", solution_json(c.solution));
  row.emplace_back("metadata", codec::stored_metadata(c));
}

Row elite_row(const StoredElite& elite) {
  Row row = {{"cell", elite.cell},
             {"candidate_id", elite.candidate.candidate.id},
             {"iteration", elite.iteration}};
  append_candidate_columns(elite.candidate.candidate, row);
  return row;
}

Row candidate_row(const StoredCandidate& stored) {
  const auto& result = stored.result_outcome;
  Row row = {{"candidate_id", stored.candidate.id},
             {"iteration", stored.candidate.iteration},
             {"batch_index", stored.batch_index},
             {"status", static_cast<std::int64_t>(stored.outcome.status)},
             {"value", real_or_null(stored.outcome.value)},
             {"cell", stored.outcome.cell},
             {"result_status", result ? json(static_cast<std::int64_t>(result->status)) : json()},
             {"result_value", result ? real_or_null(result->value) : json()}};
  append_candidate_columns(stored.candidate, row);
  return row;
}

Row iteration_row(const IterationRow& iteration) {
  return {{"iteration", iteration.iteration},
          {"committed", iteration.committed},
          {"num_candidates", iteration.num_candidates},
          {"num_added", iteration.num_added},
          {"num_new", iteration.num_new},
          {"metrics", iteration.metrics},
          {"timings", iteration.timings}};
}

void write_jsonl(const Row& row, std::ostream& out) {
  json object = json::object();
  for (const auto& [name, value] : row) {
    // JSON has no infinity: a novelty value of +inf (empty archive) is written as a string.
    if (value.is_number_float() && !std::isfinite(value.get<double>()))
      object[name] = csv_number(value.get<double>());
    else
      object[name] = value;
  }
  out << io::dump_json(object) << '\n';
}

void write_csv_line(const std::vector<std::string>& fields, std::ostream& out) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += fields[i];
  }
  line += "\r\n";
  out << line;
}

// Elites and candidates: every row has the table's columns, measures spread over measure_0
// .. measure_{n-1}, n the most any row has (empty past a row's own measures).
class CandidateCsv {
 public:
  CandidateCsv(const std::vector<std::string>& columns, std::size_t measure_count,
               std::ostream& out)
      : measure_count_(measure_count), out_(out) {
    std::vector<std::string> header;
    for (const std::string& name : columns) {
      if (name != "measures") {
        header.push_back(csv_field(name));
        continue;
      }
      for (std::size_t i = 0; i < measure_count_; ++i)
        header.push_back(csv_field("measure_" + std::to_string(i)));
    }
    write_csv_line(header, out_);
  }

  void write(const Row& row) {
    fields_.clear();
    for (const auto& [name, value] : row) {
      if (name != "measures") {
        fields_.push_back(csv_field(value));
        continue;
      }
      for (std::size_t i = 0; i < measure_count_; ++i)
        fields_.push_back(i < value.size() ? csv_field(value[i]) : std::string());
    }
    write_csv_line(fields_, out_);
  }

 private:
  std::size_t measure_count_;
  std::ostream& out_;
  std::vector<std::string> fields_;
};

// Iterations: metrics keys become columns and timings time_<key>; the header lists every
// column any row has, in first-seen order (a metric that appears later gets a column too).
Row flatten_iteration(const Row& row) {
  Row flat;
  for (const auto& [name, value] : row) {
    if (name == "metrics" && value.is_object()) {
      for (const auto& [key, v] : value.items()) flat.emplace_back(key, v);
    } else if (name == "timings" && value.is_object()) {
      for (const auto& [key, v] : value.items()) flat.emplace_back("time_" + key, v);
    } else {
      flat.emplace_back(name, value);
    }
  }
  return flat;
}

void write_iterations_csv(const RunReader& reader, std::ostream& out) {
  std::vector<std::string> header = kIterationColumns;
  std::set<std::string> seen(header.begin(), header.end());
  reader.for_each_iteration([&](const IterationRow& iteration) {
    for (const auto& [name, value] : flatten_iteration(iteration_row(iteration)))
      if (seen.insert(name).second) header.push_back(name);
  });
  std::vector<std::string> fields;
  for (const std::string& name : header) fields.push_back(csv_field(name));
  write_csv_line(fields, out);
  reader.for_each_iteration([&](const IterationRow& iteration) {
    const Row flat = flatten_iteration(iteration_row(iteration));
    fields.assign(header.size(), std::string());
    for (std::size_t i = 0; i < header.size(); ++i)
      for (const auto& [name, value] : flat)
        if (name == header[i]) {  // a name a row holds twice: its first value
          fields[i] = csv_field(value);
          break;
        }
    write_csv_line(fields, out);
  });
}

}  // namespace

void export_run(const std::filesystem::path& run_file, ExportTable table, ExportFormat format,
                std::ostream& out) {
  const RunReader reader(run_file);
  // One read transaction, so a run being written shows one consistent snapshot.
  const RunReader::Snapshot snapshot(reader);
  // Rows stream from the reader to `out` one at a time; a failed write stops the export.
  auto check_written = [&] {
    try {
      io::check_written(out, "the export's output");
    } catch (const std::runtime_error& e) {
      throw RunStoreError(e.what());
    }
  };
  auto each_row = [&](auto&& write) {
    switch (table) {
      case ExportTable::kElites:
        reader.for_each_elite([&](const StoredElite& e) {
          write(elite_row(e));
          check_written();
        });
        break;
      case ExportTable::kCandidates:
        reader.for_each_candidate([&](const StoredCandidate& c) {
          write(candidate_row(c));
          check_written();
        });
        break;
      case ExportTable::kIterations:
        reader.for_each_iteration([&](const IterationRow& i) {
          write(iteration_row(i));
          check_written();
        });
        break;
    }
  };
  if (format == ExportFormat::kJsonl) {
    each_row([&](const Row& row) { write_jsonl(row, out); });
  } else if (table == ExportTable::kIterations) {
    write_iterations_csv(reader, out);
  } else {
    const bool elites = table == ExportTable::kElites;
    CandidateCsv csv(elites ? kEliteColumns : kCandidateColumns,
                     elites ? reader.max_elite_measures() : reader.max_candidate_measures(), out);
    each_row([&](const Row& row) { csv.write(row); });
  }
  out.flush();
  check_written();
}

}  // namespace qdgen::store
