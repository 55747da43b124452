#pragma once
// The JSON of a run: the one description of a run store that the static report (embedded in
// index.html and its shard files) and the live dashboard's API (/api/runs...) both send to the
// page. Every function reads through a RunReader, so it works while a run writes; each call
// sees one snapshot. Shapes are stable: fields may be added, none renamed or removed.
//
// run (run_json; the items of /api/runs):
//   {"id": string (the caller's; the report uses "0", "1", ... in the order given),
//    "name": config.name or the file's stem, "file": the store's path as given,
//    "status": "running"|"finished"|"failed", "failure": string ("" unless failed),
//    "created": ISO 8601 UTC, "seed": number, "qdgen_version": string,
//    "keep_candidates": "all"|"added", "last_iteration": number or null (none committed),
//    "iterations_planned": config.iterations, "domain": the domain's kind ("text", "sphere"...),
//    "candidate_count": stored candidates,
//    "archive": {"type": "grid"|"cvt"|"novelty", "cells": number of cells (0: novelty),
//                "dims": [{"name": string, "range": [lo, hi], "edges": [...] (grid only)}],
//                "centroids": [[...], ...] (cvt only),
//                "voronoi": [[[x, y], ...], ...] (2-D cvt only: each cell's polygon)},
//    "measure_names": [string, ...] (= archive.dims[i].name),
//    "metrics_keys": [string, ...]: every numeric top-level key of the iterations' metrics,
//                    sorted (qd_score, coverage, obj_max, obj_mean, vendi_*, ...)}
// elites (elites_json; /api/runs/{id}/elites):
//   {"iteration": last committed iteration or null, "count": number of elites,
//    "objective_range": [min, max] over the elites' finite objectives, or null when none,
//    "measure_range": [[lo, hi], ...] per measure over the elites, or null when none,
//    "elites": [{"cell": number, "index": [per-dimension bin (grid), or [cell]],
//                "id": candidate id, "objective": number or null (NaN),
//                "measures": [...], "iteration": when it took the cell,
//                "op": operator, "parents": [ids],
//                "preview": the text's first 200 characters (whole UTF-8 characters), or
//                           the first 8 numbers of a vector as "[0.1, 2, ...]",
//                "truncated": whether preview is shorter than the solution}, ...] by cell}
// iterations (iterations_json; /api/runs/{id}/iterations?since=K: only iterations > K):
//   [{"iteration", "committed" (ISO 8601 UTC), "num_candidates", "num_added", "num_new",
//     "metrics": {...} as stored, "timings": {...} seconds per phase as stored,
//     "evaluations_per_s": num_candidates / the sum of the timings (null when that is 0)}]
// candidate (candidate_json; /api/runs/{id}/candidates/{cid}):
//   {"id", "iteration", "batch_index", "op", "parents": [ids], "objective" (null: NaN),
//    "measures": [...], "text": string (text domains) or "solution": [numbers],
//    "emitter": index or -1, "metadata": {...} as stored (judge outputs "judge", LoRA
//    "mixture", "sampling", ...; {} when none),
//    "outcome": {"status": 0|1|2, "value", "cell"},
//    "result_outcome": same or null (the run keeps one archive),
//    "lineage": [{"id", "generation" (0: itself, 1: parent, ...), "stored": bool,
//                 "iteration", "op", "parents"}] breadth first, each ancestor once}
//   The report's shard files hold candidates without "lineage" (the page walks "parents").

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "qdgen/store/run_reader.hpp"
#include "qdgen/viz/archive_layout.hpp"

namespace qdgen::viz {

inline constexpr std::size_t kPreviewCharacters = 200;

// The layout comes from archive_layout(reader.info().config, file): compute it once per run
// (a CVT's k-means is not free) and pass it to every call.
nlohmann::json run_json(const store::RunReader& reader, const ArchiveLayout& layout,
                        const std::string& id, const std::string& file);
nlohmann::json elites_json(const store::RunReader& reader, const ArchiveLayout& layout);
// Iterations after `since` (-1: all).
nlohmann::json iterations_json(const store::RunReader& reader, std::int64_t since = -1);
// std::nullopt when the store holds no candidate with this id.
std::optional<nlohmann::json> candidate_json(const store::RunReader& reader, std::int64_t id,
                                             bool with_lineage = true);
// A stored candidate as the candidate JSON above, without lineage.
nlohmann::json stored_candidate_json(const store::StoredCandidate& stored);

// What preview holds for a solution, and whether it is shorter than the solution.
std::string solution_preview(const archive::Solution& solution, bool* truncated = nullptr);

// Numbers JSON cannot hold (NaN, ±inf) become null; everything else as is.
nlohmann::json number_or_null(double value);

}  // namespace qdgen::viz
