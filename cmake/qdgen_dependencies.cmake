# All dependencies are Debian 12 packages that scripts/setup installs.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(Boost 1.74 REQUIRED)
# libpng (Debian's libpng-dev): the report's archive.png; viz/ writes SVG itself.
find_package(PNG REQUIRED)

# OpenBLAS (pthread flavour) carries both BLAS and LAPACK; metrics/ calls LAPACK's
# symmetric eigensolver directly and Eigen routes its products to the same library.
find_library(QDGEN_OPENBLAS NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/aarch64-linux-gnu/openblas-pthread
  REQUIRED)
add_library(qdgen_blas INTERFACE)
target_link_libraries(qdgen_blas INTERFACE ${QDGEN_OPENBLAS})

if(QDGEN_WITH_TORCH)
  set(QDGEN_WITH_TORCH_BOOL true)
  find_package(Torch REQUIRED)
  # Torch's imported targets add -D_GLIBCXX_USE_CXX11_ABI etc.; its headers are SYSTEM
  # so that -Werror only judges our own code.
  add_library(qdgen_torch INTERFACE)
  target_link_libraries(qdgen_torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(qdgen_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
else()
  set(QDGEN_WITH_TORCH_BOOL false)
endif()

if(QDGEN_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
