#pragma once
// An emitter group of an experiment config ("emitters[i]"): its "kind" picks a parser from
// emitter_kinds(). A parser sees the domain and archive specs parsed before it, so that
// what needs their geometry (x0's size, the 'rd' ranker's grid, a domain that mutates) is
// checked on the specs, before anything is built.

#include <memory>
#include <string>

#include "qdgen/archive/factory.hpp"
#include "qdgen/common/kind_registry.hpp"
#include "qdgen/engine/domain_spec.hpp"
#include "qdgen/engine/emitter.hpp"

namespace qdgen::engine {

class EmitterSpec {
 public:
  virtual ~EmitterSpec() = default;
  virtual std::string kind() const = 0;
  virtual int batch_size() const = 0;
  virtual std::unique_ptr<Emitter> build() const = 0;
};

struct EmitterParseContext {
  const DomainSpec& domain;
  const archive::ArchiveSpec& archive;
};

using EmitterKinds = common::KindRegistry<EmitterSpec, EmitterParseContext>;
const EmitterKinds& emitter_kinds();

// The spec of a kind whose settings are one options struct with a batch_size.
template <typename Options>
class EmitterSpecOf final : public EmitterSpec {
 public:
  using Make = std::unique_ptr<Emitter> (*)(const Options&);
  EmitterSpecOf(std::string kind, Options settings, Make make)
      : options(std::move(settings)), kind_(std::move(kind)), make_(make) {}
  std::string kind() const override { return kind_; }
  int batch_size() const override { return options.batch_size; }
  std::unique_ptr<Emitter> build() const override { return make_(options); }

  Options options;

 private:
  std::string kind_;
  Make make_;
};

// The options of a spec of that kind, else null.
template <typename Options>
const Options* emitter_options(const EmitterSpec& spec) {
  const auto* typed = dynamic_cast<const EmitterSpecOf<Options>*>(&spec);
  return typed == nullptr ? nullptr : &typed->options;
}

}  // namespace qdgen::engine
