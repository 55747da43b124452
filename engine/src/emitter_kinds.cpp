// The emitter kinds of experiment configs. Each kind's file defines its parser and
// builder; this list registers them.
#include "qdgen/engine/emitter_spec.hpp"

namespace qdgen::engine {

EmitterKinds::Kind gaussian_emitter_kind();
EmitterKinds::Kind iso_line_emitter_kind();
EmitterKinds::Kind cma_es_emitter_kind();
EmitterKinds::Kind mutation_emitter_kind();

const EmitterKinds& emitter_kinds() {
  static const EmitterKinds kinds("kind", {gaussian_emitter_kind(), iso_line_emitter_kind(),
                                           cma_es_emitter_kind(), mutation_emitter_kind()});
  return kinds;
}

}  // namespace qdgen::engine
