#pragma once
// From a config section's kind ("kind": "sphere", "type": "grid") to the parser of that
// kind. A parser reads its own keys into a plain spec; the spec validates without building
// anything and builds once. A new kind is one file (its spec, parser and builder) plus one
// line where its library lists its kinds.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qdgen/common/json_reader.hpp"

namespace qdgen::common {

template <typename Spec, typename... Context>
class KindRegistry {
 public:
  using Parse = std::function<std::unique_ptr<Spec>(JsonReader&, const Context&...)>;
  struct Kind {
    std::string name;
    Parse parse;
  };

  KindRegistry(std::string kind_key, std::vector<Kind> kinds)
      : kind_key_(std::move(kind_key)), kinds_(std::move(kinds)) {}

  // Reads the kind key, hands the section to that kind's parser, then refuses keys the
  // parser never asked about.
  std::unique_ptr<Spec> parse(JsonReader& section, const Context&... context) const {
    const std::string name = section.choice(kind_key_, names());
    std::unique_ptr<Spec> spec = find(name)->parse(section, context...);
    section.finish();
    return spec;
  }

  const Kind* find(const std::string& name) const {
    for (const Kind& kind : kinds_)
      if (kind.name == name) return &kind;
    return nullptr;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> list;
    for (const Kind& kind : kinds_) list.push_back(kind.name);
    return list;
  }
  const std::string& kind_key() const { return kind_key_; }

 private:
  std::string kind_key_;
  std::vector<Kind> kinds_;
};

}  // namespace qdgen::common
