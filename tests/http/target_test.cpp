// Request targets: decoded into segments and a query, and refused when they could name
// something outside what the server serves.
#include "qdgen/http/target.hpp"

#include <gtest/gtest.h>

#include "qdgen/http/request.hpp"

namespace {

using qdgen::http::HttpError;
using qdgen::http::parse_target;

std::string refusal(const std::string& target) {
  try {
    parse_target(target);
  } catch (const HttpError& error) {
    EXPECT_EQ(error.status(), 400u) << target;
    return error.what();
  }
  return "accepted";
}

TEST(Target, SplitsAndDecodesSegmentsAndQuery) {
  const auto target = parse_target("/api/runs/0/iterations?since=12&name=a+b%21");
  EXPECT_EQ(target.path, (std::vector<std::string>{"api", "runs", "0", "iterations"}));
  EXPECT_EQ(target.query.at("since"), "12");
  EXPECT_EQ(target.query.at("name"), "a b!");
  EXPECT_TRUE(parse_target("/").path.empty());
  EXPECT_EQ(parse_target("/a%20b").path, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(parse_target("/a/").path, (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(parse_target("/x?flag").query.at("flag"), "");
}

TEST(Target, RefusesTraversalInEveryEncoding) {
  for (const char* target : {"/../etc/passwd", "/assets/../../x", "/%2e%2e/etc/passwd", "/%2E%2E/x",
                             "/.%2e/x", "/./x", "/%2e/x"})
    EXPECT_EQ(refusal(target), "bad request target: a '.' or '..' segment") << target;
  for (const char* target : {"/a%2fb", "/a%2F..%2Fb", "/a%5cb", "/a%00b", "/index.html%00.png"})
    EXPECT_EQ(refusal(target), "bad request target: an encoded '/', '\\' or NUL in the path")
        << target;
  EXPECT_EQ(refusal("/a\\..\\b"), "bad request target: a control character, space, '#' or '\\'");
  EXPECT_EQ(refusal("/q?x=%00"), "bad request target: a NUL in the query");
}

TEST(Target, RefusesWhatIsNotAnOriginFormPath) {
  for (const char* target : {"", "*", "etc/passwd", "http://example.com/"})
    EXPECT_EQ(refusal(target), "bad request target: expected a path starting with '/'") << target;
  // Allowed by the grammar: an empty first segment, which no route has.
  EXPECT_EQ(parse_target("//x").path, (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(refusal("/a%zz"), "bad request target: a '%' not followed by two hex digits");
  EXPECT_EQ(refusal("/a%4"), "bad request target: a '%' not followed by two hex digits");
  EXPECT_EQ(refusal("/a\x01"), "bad request target: a control character, space, '#' or '\\'");
  EXPECT_EQ(refusal("/q?since=1&since=2"),
            "bad request target: query parameter 'since' given twice");
  EXPECT_EQ(refusal("/q?a%0ab=1&a%0Ab=2"), "bad request target: query parameter 'a?b' given twice");
}

TEST(Target, IntegersAreDigitsInRange) {
  using qdgen::http::parse_integer;
  EXPECT_EQ(parse_integer("42", "id", 0, 100), 42);
  EXPECT_EQ(parse_integer("-1", "since", -1, 10), -1);
  for (const char* text :
       {"", "x", "1x", " 1", "+1", "1.5", "101", "-2", "99999999999999999999999"}) {
    try {
      parse_integer(text, "id", -1, 100);
      ADD_FAILURE() << text;
    } catch (const HttpError& error) {
      EXPECT_EQ(error.status(), 400u);
      EXPECT_EQ(std::string(error.what()),
                std::string("id: expected an integer in [-1, 100], got '") + text + "'");
    }
  }
}

}  // namespace
