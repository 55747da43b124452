#pragma once
// The run store's schema, version 1 (README "Run store schema" documents every column).

namespace qdgen::store {

inline constexpr const char* kRunStoreSchemaSql = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE run (
  run_id INTEGER PRIMARY KEY CHECK (run_id = 1),
  config TEXT NOT NULL,
  seed INTEGER NOT NULL,
  created TEXT NOT NULL,
  qdgen_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
  keep_candidates TEXT NOT NULL CHECK (keep_candidates IN ('all', 'added')),
  updated TEXT NOT NULL
);
CREATE TABLE iteration (
  iteration INTEGER PRIMARY KEY,
  committed TEXT NOT NULL,
  num_candidates INTEGER NOT NULL,
  num_added INTEGER NOT NULL,
  num_new INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  timings TEXT NOT NULL,
  rng_state TEXT NOT NULL,
  engine_state TEXT NOT NULL
);
CREATE TABLE candidate (
  candidate_id INTEGER PRIMARY KEY,
  iteration INTEGER NOT NULL REFERENCES iteration (iteration),
  batch_index INTEGER NOT NULL,
  parent_ids TEXT NOT NULL,
  operator TEXT NOT NULL,
  solution BLOB,
  solution_text TEXT,
  objective REAL NOT NULL,
  measures TEXT NOT NULL,
  embedding BLOB,
  metadata TEXT NOT NULL,
  status INTEGER NOT NULL,
  value REAL,
  cell INTEGER NOT NULL,
  result_status INTEGER,
  result_value REAL,
  UNIQUE (iteration, batch_index)
);
CREATE INDEX candidate_added ON candidate (iteration, batch_index)
  WHERE status > 0 OR result_status > 0;
CREATE INDEX candidate_objective ON candidate (objective);
CREATE INDEX candidate_cell ON candidate (cell);
CREATE TABLE elite (
  cell INTEGER PRIMARY KEY,
  candidate_id INTEGER NOT NULL REFERENCES candidate (candidate_id),
  iteration INTEGER NOT NULL REFERENCES iteration (iteration)
);
CREATE INDEX elite_candidate ON elite (candidate_id);
)sql";

}  // namespace qdgen::store
