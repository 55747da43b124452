#pragma once
// Precompiled for every translation unit of qdgen_inference (see inference/CMakeLists.txt).
#include <torch/torch.h>
