#pragma once
// A Canvas as a standalone SVG document (UTF-8, no external references).

#include <string>

#include "qdgen/viz/canvas.hpp"

namespace qdgen::viz {

std::string to_svg(const Canvas& canvas);
// Text for an SVG or HTML document: & < > " ' escaped.
std::string xml_escape(std::string_view text);

}  // namespace qdgen::viz
