#pragma once
// The libtorch headers every translation unit of qdgen_training needs (precompiled once).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
