// The curves (figures.hpp): one panel per metric, one line per run.
#include <algorithm>
#include <cmath>
#include <set>

#include "axes.hpp"
#include "qdgen/viz/figures.hpp"

namespace qdgen::viz {

namespace {

using nlohmann::json;

constexpr double kLeft = 70, kTop = 40, kPanelWidth = 330, kPanelHeight = 190;
constexpr double kColumnGap = 90, kRowGap = 70, kLegendLine = 18;
constexpr int kColumns = 2;

const char* const kFirstMetrics[] = {"qd_score", "coverage", "obj_max", "obj_mean"};

std::string metric_title(const std::string& key) {
  if (key == "qd_score") return "QD score";
  if (key == "coverage") return "coverage";
  if (key == "obj_max") return "max objective";
  if (key == "obj_mean") return "mean objective";
  if (key == "evaluations_per_s") return "evaluations/s";
  // vendi_<kernel>_q<order>: "Vendi, embedding kernel, q = 0.5"
  if (key.rfind("vendi_", 0) == 0) {
    const std::string rest = key.substr(6);
    const std::size_t q = rest.rfind("_q");
    if (q == std::string::npos) return "Vendi " + rest;
    return "Vendi, " + rest.substr(0, q) + " kernel, q = " + rest.substr(q + 2);
  }
  return key;
}

// The value a curve plots at one iteration, or NaN.
double value_of(const json& iteration, const std::string& key) {
  const json* v = nullptr;
  if (key == "evaluations_per_s")
    v = iteration.contains(key) ? &iteration[key] : nullptr;
  else if (iteration.contains("metrics") && iteration["metrics"].is_object() &&
           iteration["metrics"].contains(key))
    v = &iteration["metrics"][key];
  return v != nullptr && v->is_number() ? v->get<double>() : NAN;
}

}  // namespace

Rgb series_colour(std::size_t i) {
  static constexpr Rgb kColours[] = {{0, 114, 178},   {230, 159, 0},  {0, 158, 115},  {213, 94, 0},
                                     {204, 121, 167}, {86, 180, 233}, {240, 228, 66}, {0, 0, 0}};
  return kColours[i % std::size(kColours)];
}

std::vector<std::string> curve_metrics(const std::vector<CurveRun>& runs) {
  std::set<std::string> present;
  bool throughput = false;
  for (const CurveRun& r : runs) {
    for (const json& key : r.run.value("metrics_keys", json::array()))
      present.insert(key.get<std::string>());
    for (const json& it : r.iterations)
      throughput = throughput || it.value("evaluations_per_s", json()).is_number();
  }
  std::vector<std::string> metrics;
  for (const char* key : kFirstMetrics)
    if (present.count(key)) metrics.push_back(key);
  for (const std::string& key : present)
    if (key.rfind("vendi_", 0) == 0) metrics.push_back(key);
  if (throughput) metrics.push_back("evaluations_per_s");
  return metrics;
}

Canvas curves_canvas(const std::vector<CurveRun>& runs) {
  Canvas c;
  c.title = "curves over iterations";
  const std::vector<std::string> metrics = curve_metrics(runs);
  // The legend: one line per run, its name and file.
  double y = kTop - 14;
  c.items.push_back(make_text({kLeft, 20}, c.title, 14, Anchor::kStart, "title"));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    y += kLegendLine;
    c.items.push_back(
        make_rect(kLeft, y - 9, kLeft + 22, y - 5, series_colour(i), "legend-swatch"));
    c.items.push_back(make_text({kLeft + 30, y - 2},
                                runs[i].run.value("name", std::string("run")) + " (" +
                                    runs[i].run.value("file", std::string()) + ")",
                                12, Anchor::kStart, "legend"));
  }
  const double top = y + 24;

  double max_iteration = 0;
  for (const CurveRun& r : runs)
    for (const json& it : r.iterations)
      max_iteration = std::max(max_iteration, it.value("iteration", 0.0));
  const double x_hi = std::max(max_iteration, 1.0);

  for (std::size_t m = 0; m < metrics.size(); ++m) {
    const double left = kLeft + static_cast<double>(m % kColumns) * (kPanelWidth + kColumnGap);
    const double panel_top = top + static_cast<double>(m / kColumns) * (kPanelHeight + kRowGap);
    double lo = INFINITY, hi = -INFINITY;
    for (const CurveRun& r : runs)
      for (const json& it : r.iterations) {
        const double v = value_of(it, metrics[m]);
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (lo == hi) lo -= 0.5 * std::max(std::abs(lo), 1.0), hi += 0.5 * std::max(std::abs(hi), 1.0);
    const auto px = [&](double x) { return left + kPanelWidth * x / x_hi; };
    const auto py = [&](double v) { return panel_top + kPanelHeight * (hi - v) / (hi - lo); };

    c.items.push_back(make_text({left, panel_top - 8}, metric_title(metrics[m]), 13, Anchor::kStart,
                                "panel-title"));
    for (const double t : nice_ticks(lo, hi, 4)) {
      c.items.push_back(make_rect(left, py(t) - 0.25, left + kPanelWidth, py(t) + 0.25,
                                  {224, 224, 224}, "gridline"));
      c.items.push_back(
          make_text({left - 6, py(t) + 4}, short_number(t), 10, Anchor::kEnd, "tick-label"));
    }
    for (const double t : nice_ticks(0, x_hi, 5)) {
      c.items.push_back(make_rect(px(t) - 0.5, panel_top + kPanelHeight, px(t) + 0.5,
                                  panel_top + kPanelHeight + 4, kInkColour, "tick"));
      c.items.push_back(make_text({px(t), panel_top + kPanelHeight + 16}, short_number(t), 10,
                                  Anchor::kMiddle, "tick-label"));
    }
    c.items.push_back(make_text({left + kPanelWidth / 2, panel_top + kPanelHeight + 32},
                                "iteration", 11, Anchor::kMiddle, "axis-label"));
    for (std::size_t i = 0; i < runs.size(); ++i) {
      Polyline line;
      line.stroke = series_colour(i);
      line.role = "curve " + metrics[m];
      line.series = runs[i].run.value("id", std::to_string(i));
      for (const json& it : runs[i].iterations) {
        const double v = value_of(it, metrics[m]);
        if (std::isfinite(v)) line.points.push_back({px(it.value("iteration", 0.0)), py(v)});
      }
      if (line.points.size() == 1) {  // one iteration: a dot, so that it shows
        Disc d;
        d.centre = line.points[0];
        d.radius = 2.5;
        d.fill = line.stroke;
        d.role = "point";
        c.items.push_back(d);
      }
      if (!line.points.empty()) c.items.push_back(std::move(line));
    }
    Rect frame = make_rect(left, panel_top, left + kPanelWidth, panel_top + kPanelHeight,
                           kInkColour, "frame");
    frame.outline = true;
    c.items.push_back(frame);
  }
  const std::size_t rows = (metrics.size() + kColumns - 1) / kColumns;
  c.width = static_cast<int>(kLeft + kColumns * kPanelWidth + (kColumns - 1) * kColumnGap + 30);
  c.height = static_cast<int>(top + static_cast<double>(rows) * (kPanelHeight + kRowGap) + 10);
  if (metrics.empty()) {
    c.items.push_back(
        make_text({kLeft, top + 20}, "no iterations committed yet", 13, Anchor::kStart, "note"));
    c.height = static_cast<int>(top + 40);
  }
  return c;
}

}  // namespace qdgen::viz
