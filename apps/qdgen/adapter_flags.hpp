#pragma once
// The --adapter, --mixture, --mixture-file and --mixture-from values, as every command that takes
// them reads them (generate, score, embed, model merge): one spelling, one set of messages.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {

// "NAME=DIR", or "DIR" (named after its folder).
llm::AdapterSource adapter_argument(const std::string& argument);

// --mixture's weights, one per adapter in --adapter order; empty text: all 1. Throws naming
// --mixture for a weight that is not a finite number or a count that is not `adapters`.
std::vector<double> parse_mixture(const std::string& text, std::size_t adapters);

// --mixture-file's mixture: a JSON object {"NAME": weight, or [a weight per layer]} naming
// every adapter of `names` (the --adapter names, in their order), no other. Throws naming the
// file and the adapter at fault. The number of layer weights is the model's to check.
llm::LoraMixture read_mixture_file(const std::string& path, const std::vector<std::string>& names);

// --mixture-from's value: a token position (>= 0), or "prompt" (LoraMixture::kLastPromptToken).
std::int64_t parse_mixture_from(const std::string& text);

}  // namespace qdgen::cli
