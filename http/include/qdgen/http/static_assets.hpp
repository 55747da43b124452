#pragma once
// Files the server holds in memory (the page, its scripts), served by exact path under GET.
// Nothing is read from disk, so no request can reach a file that was not added.

#include <string>
#include <string_view>

#include "qdgen/http/router.hpp"

namespace qdgen::http {

// The Content-Type for a file name's extension (".html", ".js", ".css", ".svg", ".png",
// ".json", ".txt", ".ico"); application/octet-stream otherwise.
std::string content_type_for(std::string_view name);

// Serves `body` at `path` ("/", "/app.js") with the type its name says (or `content_type`).
void add_static_asset(Router& router, const std::string& path, std::string body,
                      std::string content_type = "");

}  // namespace qdgen::http
