#pragma once
// The "domain" section of an experiment config: its "kind" picks a parser from
// domain_kinds(), which reads the kind's own keys into a spec. A spec answers what the rest
// of the config is checked against (solution and measure sizes, mutation, embeddings)
// without building anything, and builds the domain once.

#include <memory>
#include <string>
#include <vector>

#include "qdgen/common/kind_registry.hpp"
#include "qdgen/engine/domain.hpp"

namespace qdgen::engine {

class DomainSpec {
 public:
  virtual ~DomainSpec() = default;
  virtual std::string kind() const = 0;
  virtual int solution_dim() const = 0;  // 0 when solutions are texts
  virtual int measure_dim() const = 0;
  virtual bool has_mutation() const { return false; }
  virtual bool has_embeddings() const { return false; }
  // Whether the domain's calls need a language model (text domains): the run loads one.
  virtual bool needs_model() const { return false; }
  // The names a mutation emitter's "operator" may take (empty: the domain's default only).
  virtual std::vector<std::string> mutation_operators() const { return {}; }
  virtual std::unique_ptr<Domain> build() const = 0;
};

using DomainKinds = common::KindRegistry<DomainSpec>;
const DomainKinds& domain_kinds();

}  // namespace qdgen::engine
