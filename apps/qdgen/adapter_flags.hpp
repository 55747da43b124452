#pragma once
// The --adapter and --mixture values, as every command that takes them reads them (generate,
// score, embed, model merge): one spelling, one set of messages.

#include <cstddef>
#include <string>
#include <vector>

#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {

// "NAME=DIR", or "DIR" (named after its folder).
llm::AdapterSource adapter_argument(const std::string& argument);

// --mixture's weights, one per adapter in --adapter order; empty text: all 1. Throws naming
// --mixture for a weight that is not a finite number or a count that is not `adapters`.
std::vector<double> parse_mixture(const std::string& text, std::size_t adapters);

}  // namespace qdgen::cli
