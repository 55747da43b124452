// Command-line numbers as typed: an unsigned value with a minus sign or beyond 2^64 - 1, and
// an empty path, are refused by name instead of wrapping, clamping or meaning "no file".

#include <gtest/gtest.h>

#include <string>

#include "run_process.hpp"

namespace {

const std::string kConfig = std::string(QDGEN_SOURCE_DIR) + "/experiments/demo-sphere-small.json";

void expect_refused(const std::string& arguments, const std::string& message) {
  const auto result = qdgen_test::qdgen(arguments);
  EXPECT_NE(result.status, 0) << arguments;
  EXPECT_NE(result.output.find(message), std::string::npos) << arguments << "\n" << result.output;
}

TEST(CommandNumbers, SeedsOutsideUnsigned64BitsAreRefused) {
  const std::string bound = "expected an integer in [0, 18446744073709551615], got ";
  expect_refused("run " + kConfig + " --in-memory --iterations 1 --seed -1",
                 "--seed: " + bound + "'-1'");
  expect_refused("run " + kConfig + " --in-memory --iterations 1 --seed 18446744073709551616",
                 "--seed: " + bound + "'18446744073709551616'");
  expect_refused("run " + kConfig + " --in-memory --iterations 1 --seed 1e3", bound + "'1e3'");
  expect_refused("generate --model nowhere --prompt a --seed -2", "--seed: " + bound + "'-2'");
}

TEST(CommandNumbers, TheLargestSeedRuns) {
  const auto result = qdgen_test::qdgen("run " + kConfig +
                                        " --in-memory --iterations 1 --seed 18446744073709551615");
  EXPECT_EQ(result.status, 0) << result.output;
}

TEST(CommandNumbers, IterationsOutOfRangeNameTheBound) {
  expect_refused("run " + kConfig + " --in-memory --iterations -1",
                 "--iterations: Value -1 not in range 1 to 1000000000");
  expect_refused("run " + kConfig + " --in-memory --iterations 99999999999999999999",
                 "not in range 1 to 1000000000");
}

TEST(CommandNumbers, AnEmptyOutPathIsRefused) {
  expect_refused("run " + kConfig + " --out ''", "--out: expected a non-empty value, got ''");
}

}  // namespace
