#include "qdgen/viz/report_page.hpp"

#include <stdexcept>

#include "assets.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/viz/colormap.hpp"
#include "qdgen/viz/figures.hpp"
#include "qdgen/viz/svg_writer.hpp"

namespace qdgen::viz {

namespace {

using nlohmann::json;

// What the page's script shares with the C++ figures: viridis stops, the empty grey and the
// run colours, so that the page and the files draw alike.
std::string page_config(const std::string& api_base) {
  json stops = json::array();
  for (int at = 0; at <= 255; at += at == 248 ? 7 : 8) {
    const Rgb c = viridis(at / 255.0);
    stops.push_back({at, c.r, c.g, c.b});
  }
  json series = json::array();
  for (std::size_t i = 0; i < 8; ++i) series.push_back(hex(series_colour(i)));
  const json page = {{"viridis", stops}, {"empty", hex(kEmptyColour)}, {"series", series}};
  std::string out = "window.QDGEN_PAGE = " + script_safe_json(page) + ";";
  if (!api_base.empty()) out += "\nwindow.QDGEN_API = " + script_safe_json(api_base) + ";";
  return out;
}

void replace(std::string& text, std::string_view mark, std::string_view with) {
  const std::size_t at = text.find(mark);
  if (at == std::string::npos) throw std::logic_error("report page: no " + std::string(mark));
  text.replace(at, mark.size(), with);
}

std::string page(const std::string& title, const std::string& config, const std::string& data) {
  std::string html(assets::kReportHtml);
  const std::string escaped_title = xml_escape(title);
  replace(html, "@QDGEN_TITLE@", escaped_title);
  replace(html, "@QDGEN_TITLE@", escaped_title);
  replace(html, "@QDGEN_CSS@", assets::kReportCss);
  replace(html, "@QDGEN_CONFIG@", config);
  // The data and the script go in last, so that no mark inside them is ever replaced.
  const std::size_t data_at = html.find("@QDGEN_DATA@");
  const std::size_t js_at = html.find("@QDGEN_JS@");
  if (data_at == std::string::npos || js_at == std::string::npos || js_at < data_at)
    throw std::logic_error("report page: the template lost its data or script mark");
  std::string out;
  out.reserve(html.size() + data.size() + assets::kReportJs.size());
  out.append(html, 0, data_at);
  out += data;
  out.append(html, data_at + 12, js_at - data_at - 12);
  out += assets::kReportJs;
  out.append(html, js_at + 10, std::string::npos);
  return out;
}

}  // namespace

std::string script_safe_json(const json& value) {
  const std::string text = io::dump_json(value);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (const char c : text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

std::string static_page(const std::string& title, const json& data) {
  return page(title, page_config(""), script_safe_json(data));
}

std::string live_page(const std::string& title, const std::string& api_base) {
  return page(title, page_config(api_base.empty() ? "/api" : api_base), "null");
}

}  // namespace qdgen::viz
