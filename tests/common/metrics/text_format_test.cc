// ParseText: what it accepts from other exporters and what it refuses.
#include "common/metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/testutil/status_matchers.h"

namespace granary::metrics {
namespace {

TEST(TextFormat, ParsesCommentsSpecialValuesTimestampsAndTrailingCommas) {
  const char* text =
      "# HELP x_total A counter.\n"
      "# TYPE x_total counter\n"
      "x_total 3 1700000000000\n"
      "\n"
      "y{a=\"1\",b=\"two\",} +Inf\n"
      "z{ a = \"q\" } -1.5e-3\n"
      "n NaN\n"
      "m -Inf";  // no final newline
  ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(text));
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].value, 3);
  EXPECT_TRUE(std::isinf(s[1].value) && s[1].value > 0);
  EXPECT_EQ(s[1].labels.at("b"), "two");
  EXPECT_DOUBLE_EQ(s[2].value, -0.0015);
  EXPECT_TRUE(std::isnan(s[3].value));
  EXPECT_TRUE(std::isinf(s[4].value) && s[4].value < 0);
}

TEST(TextFormat, RejectsMalformedLinesNamingThem) {
  for (const char* bad : {"x{a=\"1\" 2\n", "x{a=1} 2\n", "x 12abc\n", "x\n", "{a=\"b\"} 1\n",
                          "x{a=\"\\q\"} 1\n", "x{a=\"open} 1\n", "x{=\"v\"} 1\n"}) {
    auto r = ParseText(std::string("ok 1\n") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), proto::INVALID_ARGUMENT);
    EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  }
}

TEST(TextFormat, BoundsInput) {
  EXPECT_ERROR(ParseText(std::string(kMaxTextBytes + 1, '#')), proto::INVALID_ARGUMENT);
  EXPECT_ERROR(ParseText("x{a=\"" + std::string(kMaxLineBytes, 'v') + "\"} 1\n"),
               proto::INVALID_ARGUMENT);
}

TEST(TextFormat, ValuesRoundTrip) {
  for (double v : {0.0, 1.0, 42.0, 1e12, 0.1, 2.5e-7, 123456.789, -3.0}) {
    std::string out;
    AppendValue(v, &out);
    ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText("x " + out + "\n"));
    EXPECT_EQ(s[0].value, v) << out;
  }
  std::string out;
  AppendValue(1e12, &out);
  EXPECT_EQ(out, "1000000000000");
}

}  // namespace
}  // namespace granary::metrics
