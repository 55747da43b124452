// The domain kinds of experiment configs. Each kind's file defines its spec, parser and
// builder; this list registers them.
#include "qdgen/engine/domain_spec.hpp"

namespace qdgen::engine {

DomainKinds::Kind sphere_domain_kind();
DomainKinds::Kind rastrigin_domain_kind();
DomainKinds::Kind arm_domain_kind();
DomainKinds::Kind text_domain_kind();

const DomainKinds& domain_kinds() {
  static const DomainKinds kinds("kind", {sphere_domain_kind(), rastrigin_domain_kind(),
                                          arm_domain_kind(), text_domain_kind()});
  return kinds;
}

}  // namespace qdgen::engine
