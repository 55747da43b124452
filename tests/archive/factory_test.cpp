#include "qdgen/archive/factory.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/archive/novelty_archive.hpp"

namespace qdgen::archive {
namespace {

using nlohmann::json;

std::string error_of(const json& spec) {
  try {
    make_archive(spec, "archive");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Factory, BuildsEachArchiveType) {
  const auto grid = make_archive(json::parse(R"({"type": "grid", "dims": [
      {"range": [0, 1], "cells": 10}, {"edges": [0, 0.1, 0.5, 1]}], "qd_offset": -1})"),
                                 "archive");
  EXPECT_EQ(dynamic_cast<GridArchive&>(*grid).num_cells(), 30);
  EXPECT_EQ(grid->describe()["dims"][1]["edges"].size(), 4u);

  const auto cvt = make_archive(json::parse(R"({"type": "cvt", "cells": 20,
      "ranges": [[0, 1], [0, 1]], "samples": 400, "seed": 3})"),
                                "archive");
  EXPECT_EQ(dynamic_cast<CvtArchive&>(*cvt).num_cells(), 20);
  const auto given =
      make_archive(json::parse(R"({"type": "cvt", "centroids": [[0, 0], [1, 1]]})"), "archive");
  EXPECT_EQ(given->measure_dim(), 2);

  const auto novelty = make_archive(json::parse(R"({"type": "novelty", "measure_dim": 2,
      "k": 5, "threshold": 0.1, "local_competition": true, "max_size": 100})"),
                                    "archive");
  EXPECT_EQ(dynamic_cast<NoveltyArchive&>(*novelty).options().k, 5);
}

TEST(Factory, CmaMaeArchiveAndItsPlainResultArchiveShareTheGeometry) {
  const json spec = json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4}],
      "learning_rate": 0.01, "threshold_min": 0, "qd_offset": -5})");
  const auto soft = make_archive(spec, "archive");
  const auto result = make_result_archive(*soft);
  const auto& soft_grid = dynamic_cast<GridArchive&>(*soft);
  const auto& result_grid = dynamic_cast<GridArchive&>(*result);
  EXPECT_EQ(soft_grid.threshold_options().learning_rate, 0.01);
  EXPECT_EQ(result_grid.threshold_options().learning_rate, 1.0);
  EXPECT_TRUE(std::isinf(result_grid.threshold_options().threshold_min));
  EXPECT_EQ(result_grid.threshold_options().qd_offset, -5);
  EXPECT_EQ(result_grid.num_cells(), soft_grid.num_cells());

  const json cvt = json::parse(R"({"type": "cvt", "cells": 8, "ranges": [[0, 1]],
      "learning_rate": 0.5, "threshold_min": 0})");
  const auto soft_cvt = make_archive(cvt, "archive");
  const auto result_cvt = make_result_archive(*soft_cvt);
  EXPECT_EQ(dynamic_cast<CvtArchive&>(*soft_cvt).centroids(),
            dynamic_cast<CvtArchive&>(*result_cvt).centroids());
}

TEST(Factory, ErrorsNameTheKeyPathAndWhatWasExpected) {
  EXPECT_EQ(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4},
      {"range": [0, 1], "cells": -3}]})")),
            "archive.dims[1].cells: expected an integer in [1, 1000000], got -3");
  EXPECT_EQ(error_of(json::parse(R"({"type": "hexagon"})")),
            "archive.type: expected one of \"grid\", \"cvt\", \"novelty\", got \"hexagon\"");
  EXPECT_EQ(error_of(json::parse(R"({"dims": []})")), "archive.type: missing (required key)");
  EXPECT_NE(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4}],
      "learnig_rate": 0.1})"))
                .find("archive.learnig_rate: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [1, 0], "cells": 4}]})"))
                .find("archive.dims[0].range: expected lo < hi"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "grid", "dims": [{"edges": [0, 0.5, 0.4]}]})"))
                .find("archive.dims[0].edges[2]: expected a value above the previous edge"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4}],
      "learning_rate": 0.1})"))
                .find("archive.threshold_min: missing"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4}],
      "learning_rate": 2})"))
                .find("archive.learning_rate: expected a number in [0, 1], got 2"),
            std::string::npos);
  EXPECT_NE(
      error_of(json::parse(R"({"type": "cvt", "cells": 10, "ranges": [[0, 1]], "samples": 5})"))
          .find("archive.samples: expected at least cells (10), got 5"),
      std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "cvt", "centroids": [[0, 0], [1]]})"))
                .find("archive.centroids[1]: expected an array of 2 numbers"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"type": "novelty", "measure_dim": 2, "threshold": 1,
      "space": "words"})"))
                .find("archive.space: expected one of \"measures\", \"embedding\""),
            std::string::npos);
  EXPECT_EQ(error_of(json::parse(R"({"type": "novelty", "measure_dim": 2})")),
            "archive.threshold: missing (required key)");
  EXPECT_EQ(error_of(json::parse("[1, 2]")),
            "archive: expected an object with a \"type\", got [1,2]");
}

TEST(Factory, ParsingValidatesWithoutBuilding) {
  // A million centroids from 10^8 samples: k-means would take hours; parsing must not run it.
  const auto start = std::chrono::steady_clock::now();
  const auto spec = parse_archive_spec(common::JsonValue(
      json::parse(R"({"type": "cvt", "cells": 1000000, "ranges": [[0, 1], [0, 1], [0, 1]],
                      "samples": 100000000, "max_iterations": 100000})"),
      "", "archive"));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  EXPECT_EQ(spec->type(), "cvt");
  EXPECT_EQ(spec->measure_dim(), 3);
  EXPECT_FALSE(spec->uses_embeddings());
  const auto novelty = parse_archive_spec(common::JsonValue(
      json::parse(R"({"type": "novelty", "measure_dim": 4, "threshold": 1, "space": "embedding"})"),
      "", "archive"));
  EXPECT_TRUE(novelty->uses_embeddings());
  EXPECT_EQ(novelty->build()->measure_dim(), 4);
}

TEST(Factory, SpecErrorsNameTheFileWhenThereIsOne) {
  try {
    parse_archive_spec(common::JsonValue(json::parse(R"({"type": "grid", "dims": [7]})"),
                                         "exp.json", "result_archive"));
    FAIL() << "no error";
  } catch (const common::JsonError& e) {
    EXPECT_STREQ(e.what(),
                 "exp.json: result_archive.dims[0]: expected {\"range\": [lo, hi], \"cells\": N} "
                 "or {\"edges\": [...]}, got 7");
  }
}

TEST(Factory, GridCellsInAllAreBounded) {
  EXPECT_EQ(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 1000000},
      {"range": [0, 1], "cells": 1000000}, {"range": [0, 1], "cells": 2}]})")),
            "archive.dims: more than 2^40 cells in all (the product of every dimension's cells)");
  EXPECT_EQ(error_of(json::parse(R"({"type": "cvt", "centroids": [[0], [1]], "cells": 2})")),
            "archive.cells: not allowed with centroids (they fix the cells)");
}

TEST(Factory, TheRegistryListsEveryType) {
  EXPECT_EQ(archive_kinds().names(), (std::vector<std::string>{"grid", "cvt", "novelty"}));
  EXPECT_EQ(archive_kinds().kind_key(), "type");
}

}  // namespace
}  // namespace qdgen::archive
