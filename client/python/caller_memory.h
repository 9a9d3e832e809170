#pragma once
// Where memory a Python caller hands to a load is: the `buffer` of
// Client.load (all tensors) and the values of its `into` (one tensor each),
// from torch tensors, objects with __cuda_array_interface__, writable
// buffers or (pointer, bytes) pairs. Bad memory is a ValueError naming it.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "granary/loader.h"

namespace granary::python {

// A Py_buffer view released (and freed) with its owner.
using HeldView = std::unique_ptr<Py_buffer, void (*)(Py_buffer*)>;

std::pair<void*, uint64_t> BufferOf(const pybind11::object& buffer, bool cuda, Py_buffer* view,
                                    bool* have_view);

TensorDestination DestinationOf(const std::string& name, const pybind11::object& obj, bool cuda,
                                std::vector<HeldView>* views);

}  // namespace granary::python
