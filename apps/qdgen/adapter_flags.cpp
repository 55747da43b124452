#include "adapter_flags.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace qdgen::cli {

llm::AdapterSource adapter_argument(const std::string& argument) {
  const std::size_t equals = argument.find('=');
  if (equals != std::string::npos && equals > 0) {
    return {argument.substr(0, equals), argument.substr(equals + 1)};
  }
  const std::filesystem::path folder(argument);
  return {(folder.has_filename() ? folder : folder.parent_path()).filename().string(), folder};
}

std::vector<double> parse_mixture(const std::string& text, std::size_t adapters) {
  if (text.empty()) return std::vector<double>(adapters, 1.0);
  std::vector<double> weights;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(value)) {
      throw std::runtime_error("--mixture: '" + item + "' is not a finite number");
    }
    weights.push_back(value);
  }
  if (weights.size() != adapters) {
    throw std::runtime_error("--mixture: " + std::to_string(weights.size()) + " weights for " +
                             std::to_string(adapters) + " adapters (one per --adapter, in order)");
  }
  return weights;
}

}  // namespace qdgen::cli
