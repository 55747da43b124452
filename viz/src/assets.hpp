#pragma once
// The report page's files, compiled in from viz/assets/ (viz/cmake/embed_assets.cmake).

#include <string_view>

namespace qdgen::viz::assets {

extern const std::string_view kReportHtml;  // report.html: the template with @QDGEN_...@ marks
extern const std::string_view kReportCss;   // report.css
extern const std::string_view kReportJs;    // report.js

}  // namespace qdgen::viz::assets
