#pragma once
// Checks of command-line values that CLI11's conversions would let through: an unsigned
// number written with a minus sign wraps around (--seed -1 became 2^64 - 1) and one beyond
// 2^64 - 1 was clamped. These see the text as typed, before conversion.

#include <CLI/CLI.hpp>

namespace qdgen::cli {

// An integer in [0, 2^64 - 1], written in decimal digits only.
CLI::Validator unsigned_64_check();
// A value that must not be empty (an empty path would mean "no file": say so instead).
CLI::Validator non_empty_check();

}  // namespace qdgen::cli
