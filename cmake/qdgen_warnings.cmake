# Warnings are errors for project code. Third-party headers come in as SYSTEM includes,
# so their warnings never stop the build.
add_library(qdgen_warnings INTERFACE)
target_compile_options(qdgen_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter -Werror)

add_library(qdgen_sanitize INTERFACE)
if(QDGEN_SANITIZE)
  target_compile_options(qdgen_sanitize INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(qdgen_sanitize INTERFACE -fsanitize=address,undefined)
endif()
if(QDGEN_FUZZ)
  # Coverage instrumentation for libFuzzer in every library; the fuzz targets link the
  # fuzzer's main (tests/fuzz). UBSan findings abort, so the fuzzer reports them as crashes.
  target_compile_options(qdgen_sanitize INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(qdgen_sanitize INTERFACE -fsanitize=address,undefined)
endif()

# Position-independent code without the cost of symbol interposition: calls between our own
# functions stay direct and inlinable.
add_library(qdgen_codegen INTERFACE)
target_compile_options(qdgen_codegen INTERFACE -fno-semantic-interposition)

# Every project target links this: warnings, sanitizers and the generated version header.
add_library(qdgen_project_options INTERFACE)
target_link_libraries(qdgen_project_options INTERFACE qdgen_warnings qdgen_sanitize qdgen_codegen)
target_include_directories(qdgen_project_options INTERFACE ${CMAKE_BINARY_DIR}/generated)
