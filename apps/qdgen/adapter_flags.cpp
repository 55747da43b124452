#include "adapter_flags.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "qdgen/common/json_parse.hpp"

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

llm::LoraMixture read_mixture_file(const std::string& path, const std::vector<std::string>& names) {
  const nlohmann::json document = common::read_json_file(path, "the --mixture-file");
  const std::string where = "--mixture-file " + path;
  if (!document.is_object()) {
    throw std::runtime_error(where +
                             ": expected an object {\"adapter\": weight or [weight per layer]}");
  }
  std::string known;
  for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
  for (const auto& [name, value] : document.items()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw std::runtime_error(where + ": adapter '" + name +
                               "' is not among the --adapter names (" +
                               (known.empty() ? std::string("none given") : known) + ")");
    }
  }
  llm::LoraMixture mixture;
  for (const std::string& name : names) {
    if (!document.contains(name)) {
      throw std::runtime_error(where + ": no weight for adapter '" + name +
                               "' (every --adapter needs one; 0 leaves it out)");
    }
    const nlohmann::json& value = document.at(name);
    const std::string expected =
        where + ": adapter '" + name + "': expected a number or a list of numbers, one per layer";
    if (value.is_number()) {
      mixture.adapters.emplace_back(name, value.get<double>());
    } else if (value.is_array() && !value.empty()) {
      std::vector<double> layers;
      for (const nlohmann::json& weight : value) {
        if (!weight.is_number()) throw std::runtime_error(expected);
        layers.push_back(weight.get<double>());
      }
      mixture.layer_weights.emplace_back(name, std::move(layers));
    } else {
      throw std::runtime_error(expected);
    }
  }
  return mixture;
}

std::int64_t parse_mixture_from(const std::string& text) {
  if (text == "prompt") return llm::LoraMixture::kLastPromptToken;
  std::size_t used = 0;
  long long value = -1;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < 0) {
    throw std::runtime_error("--mixture-from: '" + text +
                             "' is neither a token position (an integer >= 0) nor 'prompt'");
  }
  return value;
}

}  // namespace qdgen::cli
