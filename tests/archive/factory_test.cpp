#include "qdgen/archive/factory.hpp"

#include <gtest/gtest.h>

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
  const auto result = make_result_archive(spec, "archive");
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
  const auto result_cvt = make_result_archive(cvt, "archive");
  EXPECT_EQ(dynamic_cast<CvtArchive&>(*soft_cvt).centroids(),
            dynamic_cast<CvtArchive&>(*result_cvt).centroids());
}

TEST(Factory, ErrorsNameTheKeyPathAndWhatWasExpected) {
  EXPECT_EQ(error_of(json::parse(R"({"type": "grid", "dims": [{"range": [0, 1], "cells": 4},
      {"range": [0, 1], "cells": -3}]})")),
            "archive.dims[1].cells: expected a positive integer, got -3");
  EXPECT_EQ(error_of(json::parse(R"({"type": "hexagon"})")),
            "archive.type: expected \"grid\", \"cvt\" or \"novelty\", got \"hexagon\"");
  EXPECT_EQ(error_of(json::parse(R"({"dims": []})")), "archive.type: missing (required)");
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
                .find("archive.space: expected \"measures\" or \"embedding\""),
            std::string::npos);
  EXPECT_EQ(error_of(json::parse(R"({"type": "novelty", "measure_dim": 2})")),
            "archive.threshold: missing (required)");
  EXPECT_EQ(error_of(json::parse("[1, 2]")),
            "archive: expected an object with a \"type\", got [1,2]");
}

}  // namespace
}  // namespace qdgen::archive
