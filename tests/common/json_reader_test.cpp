#include "qdgen/common/json_reader.hpp"

#include <gtest/gtest.h>

#include "qdgen/common/json_parse.hpp"
#include "qdgen/common/kind_registry.hpp"

namespace qdgen::common {
namespace {

using nlohmann::json;

template <typename Read>
std::string error_of(Read read) {
  try {
    read();
  } catch (const JsonError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonReader, ErrorsNameTheFileAndTheKeyPath) {
  const json doc = json::parse(R"({"a": {"b": [1, {"c": -3}]}})");
  JsonReader root(doc, "x.json");
  JsonReader c = root.object("a").required("b").element(1).object();
  EXPECT_EQ(c.where(), "x.json: a.b[1]");
  EXPECT_EQ(error_of([&] { c.integer("c", 1, 10); }),
            "x.json: a.b[1].c: expected an integer in [1, 10], got -3");
  EXPECT_EQ(error_of([&] { c.integer("d", 1, 10); }), "x.json: a.b[1].d: missing (required key)");
  EXPECT_EQ(error_of([&] { c.expected("d", "a thing"); }),
            "x.json: a.b[1].d: expected a thing, got nothing");
  // Without a file the message starts at the key path, as archive specs built in code do.
  JsonReader bare(doc, "", "archive");
  EXPECT_EQ(error_of([&] { bare.string("a"); }),
            "archive.a: expected a string, got {\"b\":[1,{\"c\":-3}]}");
  EXPECT_EQ(error_of([] { JsonReader(json(3), "x.json"); }), "x.json: expected an object, got 3");
}

TEST(JsonReader, TypedReads) {
  const json doc = json::parse(R"({"n": 2.5, "i": 7, "big": 18446744073709551615, "neg": -4,
      "s": "grid", "t": true, "nan": "x"})");
  JsonReader r(doc, "f");
  EXPECT_EQ(r.number("n"), 2.5);
  EXPECT_EQ(r.positive_number("n"), 2.5);
  EXPECT_EQ(r.number_in("n", 0, 3), 2.5);
  EXPECT_EQ(error_of([&] { r.number_in("n", 0, 1); }),
            "f: n: expected a number in [0, 1], got 2.5");
  EXPECT_EQ(r.integer("i", 0, 7), 7);
  EXPECT_EQ(error_of([&] { r.integer("n", 0, 7); }),
            "f: n: expected an integer in [0, 7], got 2.5");
  EXPECT_EQ(r.unsigned_integer("big"), 18446744073709551615u);
  EXPECT_EQ(error_of([&] { r.integer("big", 0, 9223372036854775807); }),
            "f: big: expected an integer in [0, 9223372036854775807], got 18446744073709551615");
  EXPECT_EQ(error_of([&] { r.unsigned_integer("neg"); }),
            "f: neg: expected an integer in [0, 18446744073709551615], got -4");
  EXPECT_EQ(error_of([&] { r.positive_number("neg"); }),
            "f: neg: expected a positive number, got -4");
  EXPECT_EQ(r.choice("s", {"grid", "cvt"}), "grid");
  EXPECT_EQ(error_of([&] {
              r.choice("s", {"cvt", "novelty"});
            }),
            "f: s: expected one of \"cvt\", \"novelty\", got \"grid\"");
  EXPECT_TRUE(r.boolean("t"));
  EXPECT_EQ(error_of([&] { r.boolean("i"); }), "f: i: expected true or false, got 7");
  EXPECT_EQ(error_of([&] { r.number("nan"); }), "f: nan: expected a finite number, got \"x\"");
  EXPECT_EQ(r.integer("absent", 0, 1, 1), 1);
  EXPECT_EQ(r.string("absent", "fallback"), "fallback");
  // Doubles built in code can be non-finite; a reader refuses them.
  const json infinite = {{"x", std::numeric_limits<double>::infinity()}};
  JsonReader ri(infinite, "f");
  EXPECT_EQ(error_of([&] { ri.number("x"); }), "f: x: expected a finite number, got null");
}

TEST(JsonReader, UnknownKeysListTheKnownOnes) {
  const json doc = json::parse(R"({"kind": "a", "sigma": 1, "typo": 2})");
  JsonReader r(doc, "f", "emitters[0]");
  r.string("kind");
  r.number("sigma");
  r.has("x0");  // asked about, absent: still a known key
  EXPECT_EQ(error_of([&] { r.finish(); }),
            "f: emitters[0].typo: unknown key (known: kind, sigma, x0)");
}

TEST(JsonReader, NullIsAbsentForFilesThatSaySo) {
  const json doc = json::parse(R"({"rope_scaling": null, "eps": null})");
  JsonReader hf(doc, "config.json", "", ReadOptions{.null_is_absent = true});
  EXPECT_FALSE(hf.has("rope_scaling"));
  EXPECT_EQ(hf.number("eps", 1e-6), 1e-6);
  JsonReader strict(doc, "exp.json");
  EXPECT_TRUE(strict.has("rope_scaling"));
  EXPECT_EQ(error_of([&] { strict.number("eps", 1e-6); }),
            "exp.json: eps: expected a finite number, got null");
}

TEST(JsonReader, ArraysCheckTheirSize) {
  const json doc = json::parse(R"({"r": [0, 1, 2]})");
  JsonReader r(doc, "f");
  const JsonValue range = r.required("r");
  EXPECT_EQ(error_of([&] { range.array("[lo, hi]", 2, 2); }),
            "f: r: expected [lo, hi], got [0,1,2]");
  const auto elements = range.array("numbers", 1);
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements[2].path(), "r[2]");
  EXPECT_EQ(elements[2].integer(0, 5), 2);
}

TEST(JsonReader, MessagesAreOneLineOfValidUtf8) {
  const json doc = {{"key\nwith break", std::string("bad \xff byte")}};
  JsonReader r(doc, "f");
  const std::string message = error_of([&] { r.integer("key\nwith break", 0, 1); });
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find("bad \xEF\xBF\xBD byte"), std::string::npos) << message;
  EXPECT_EQ(describe_json(json(std::string(100, 'a'))).size(), 60u);
  // Cut at a character boundary, never inside one.
  std::string wide;
  for (int i = 0; i < 40; ++i) wide += "\xC3\xA9";
  const std::string cut = describe_json(json(wide));
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  EXPECT_EQ(cut[cut.size() - 4], '\xA9');
}

TEST(DescribeNumber, WritesBoundsAsPeopleDo) {
  EXPECT_EQ(describe_number(3600), "3600");
  EXPECT_EQ(describe_number(0), "0");
  EXPECT_EQ(describe_number(0.5), "0.5");
  EXPECT_EQ(describe_number(-1e300), "-1e+300");
  EXPECT_EQ(describe_number(0.1), "0.1");
}

TEST(ParseJson, ErrorsNameTheSourceAndWhereTheParserWas) {
  EXPECT_EQ(error_of([] { parse_json(R"({"a": [1, {"b": 1e999}]})", "x.json"); }),
            "x.json: a[1].b: the number 1e999 does not fit a double (at most 1.8e308)");
  EXPECT_EQ(error_of([] { parse_json(R"({"a": [1, 2, -1e999]})", "x.json"); }),
            "x.json: a[2]: the number -1e999 does not fit a double (at most 1.8e308)");
  const std::string syntax = error_of([] { parse_json(R"({"a": {"b": }})", "x.json"); });
  EXPECT_EQ(syntax.rfind("x.json: a.b: not valid JSON (parse error at line 1, column 13:", 0), 0u)
      << syntax;
  const std::string empty = error_of([] { parse_json("", "x.json"); });
  EXPECT_EQ(empty.rfind("x.json: not valid JSON (", 0), 0u) << empty;
  EXPECT_EQ(empty.find("json.exception"), std::string::npos) << empty;
  EXPECT_EQ(parse_json(R"({"a": [1, 2]})", "x.json")["a"][1], 2);
}

TEST(ReadJsonFile, MissingFilesAndFolders) {
  EXPECT_EQ(error_of([] { read_json_file("/nonexistent/c.json", "the config file"); }),
            "/nonexistent/c.json: cannot open the config file (missing or unreadable)");
  EXPECT_EQ(error_of([] { read_json_file("/", "config.json"); }),
            "/: is a folder, expected config.json");
}

TEST(JsonExceptionText, DropsTheLibraryTag) {
  try {
    (void)json(3).at("x");
  } catch (const json::exception& e) {
    EXPECT_EQ(json_exception_text(e), "cannot use at() with number");
  }
}

// A kind with its own nested section, as a text domain's "model" will be.
struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Square : Shape {
  double side = 0;
  double area() const override { return side * side; }
};
struct Labelled : Shape {
  double scale = 1;
  std::string label;
  double area() const override { return scale; }
};

TEST(KindRegistry, DispatchesOnTheKindAndRefusesKeysNoParserAsked) {
  using Shapes = KindRegistry<Shape, double>;
  const Shapes shapes("kind",
                      {{"square",
                        [](JsonReader& r, const double& unit) -> std::unique_ptr<Shape> {
                          auto s = std::make_unique<Square>();
                          s->side = r.positive_number("side") * unit;
                          return s;
                        }},
                       {"labelled", [](JsonReader& r, const double&) -> std::unique_ptr<Shape> {
                          auto s = std::make_unique<Labelled>();
                          JsonReader model = r.object("model");
                          s->label = model.string("name");
                          model.finish();
                          s->scale = r.number("scale", 1.0);
                          return s;
                        }}});
  const json square = json::parse(R"({"kind": "square", "side": 3})");
  JsonReader sr(square, "f", "shape");
  EXPECT_EQ(shapes.parse(sr, 2.0)->area(), 36.0);

  const json labelled = json::parse(R"({"kind": "labelled", "model": {"name": "m"}, "scale": 4})");
  JsonReader lr(labelled, "f", "shape");
  EXPECT_EQ(shapes.parse(lr, 1.0)->area(), 4.0);

  const json typo = json::parse(R"({"kind": "square", "side": 3, "sides": 4})");
  JsonReader tr(typo, "f", "shape");
  EXPECT_EQ(error_of([&] { shapes.parse(tr, 1.0); }),
            "f: shape.sides: unknown key (known: kind, side)");
  const json nested = json::parse(R"({"kind": "labelled", "model": {"name": "m", "x": 1}})");
  JsonReader nr(nested, "f", "shape");
  EXPECT_EQ(error_of([&] { shapes.parse(nr, 1.0); }),
            "f: shape.model.x: unknown key (known: name)");
  const json unknown = json::parse(R"({"kind": "circle"})");
  JsonReader ur(unknown, "f", "shape");
  EXPECT_EQ(error_of([&] { shapes.parse(ur, 1.0); }),
            "f: shape.kind: expected one of \"square\", \"labelled\", got \"circle\"");
  EXPECT_EQ(shapes.names(), (std::vector<std::string>{"square", "labelled"}));
}

}  // namespace
}  // namespace qdgen::common
