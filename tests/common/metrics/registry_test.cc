// The registry renders the text exposition format; ParseText reads it back.
#include "common/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "common/metrics/text_format.h"
#include "tests/testutil/status_matchers.h"

namespace granary::metrics {
namespace {

TEST(Registry, CounterGaugeRenderAndParseBack) {
  Registry reg;
  auto& reqs = reg.AddCounter("granary_test_requests_total", "Requests.", {"method", "code"});
  Counter& ok = reqs.With({"READ", "OK"});
  ok.Inc();
  ok.Inc(41);
  reqs.With({"READ", "NOT_FOUND"}).Inc(3);
  EXPECT_EQ(&ok, &reqs.With({"READ", "OK"}));  // looked up once, same series after
  Gauge& open = reg.AddGauge("granary_test_open", "Open things.").With({});
  open.Set(7);
  open.Add(-2);

  const std::string text = reg.Render();
  EXPECT_NE(text.find("# HELP granary_test_requests_total Requests.\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE granary_test_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("granary_test_requests_total{method=\"READ\",code=\"OK\"} 42\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE granary_test_open gauge\ngranary_test_open 5\n"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(std::vector<Sample> samples, ParseText(text));
  EXPECT_EQ(FindSample(samples, "granary_test_requests_total", {{"code", "OK"}}), 42);
  EXPECT_EQ(FindSample(samples, "granary_test_requests_total", {{"code", "NOT_FOUND"}}), 3);
  EXPECT_EQ(SumSamples(samples, "granary_test_requests_total", {{"method", "READ"}}), 45);
  EXPECT_EQ(FindSample(samples, "granary_test_open"), 5);
  EXPECT_FALSE(FindSample(samples, "granary_test_missing").has_value());
}

TEST(Registry, HistogramBucketsAreCumulativeWithInf) {
  Registry reg;
  Histogram& h =
      reg.AddHistogram("granary_test_seconds", "Latency.", {"method"}, {0.1, 1, 10}).With({"X"});
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.Observe(v);
  ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(reg.Render()));
  auto bucket = [&](const char* le) {
    return FindSample(s, "granary_test_seconds_bucket", {{"method", "X"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.1"), 2);  // bounds are inclusive
  EXPECT_EQ(bucket("1"), 3);
  EXPECT_EQ(bucket("10"), 4);
  EXPECT_EQ(bucket("+Inf"), 5);
  EXPECT_EQ(FindSample(s, "granary_test_seconds_count", {{"method", "X"}}), 5);
  EXPECT_DOUBLE_EQ(*FindSample(s, "granary_test_seconds_sum", {{"method", "X"}}), 55.65);
}

TEST(Registry, CallbacksRunAtScrapeTime) {
  Registry reg;
  int calls = 0;
  reg.AddCallback("granary_test_folder_bytes", "Per folder.", Type::kGauge, {"folder"},
                  [&](Sink& s) {
                    ++calls;
                    s.Add({"/a"}, 1e12);
                    s.Add(std::vector<std::string>{"/b"}, 0.5);
                    s.Add({"/c", "extra"}, 1);  // wrong arity: dropped, not fatal
                  });
  EXPECT_EQ(calls, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(reg.Render()));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(FindSample(s, "granary_test_folder_bytes", {{"folder", "/a"}}), 1e12);
  EXPECT_EQ(FindSample(s, "granary_test_folder_bytes", {{"folder", "/b"}}), 0.5);
  EXPECT_EQ(s.size(), 2u);
}

TEST(Registry, LabelValuesAreEscaped) {
  Registry reg;
  reg.AddCounter("granary_test_total", "Help with \\ and\nnewline.", {"v"})
      .With({"a\"b\\c\nd"})
      .Inc();
  const std::string text = reg.Render();
  EXPECT_NE(text.find("# HELP granary_test_total Help with \\\\ and\\nnewline.\n"),
            std::string::npos);
  EXPECT_NE(text.find("{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(text));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].labels.at("v"), "a\"b\\c\nd");
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  Registry reg;
  Counter& c = reg.AddCounter("granary_test_total", "C.").With({});
  Histogram& h = reg.AddHistogram("granary_test_seconds", "H.", {}, LatencyBuckets()).With({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.Inc();
        h.Observe(0.001);
      }
    });
  }
  std::string during = reg.Render();  // renders while the threads update
  for (auto& t : threads) t.join();
  ASSERT_OK(ParseText(during).status());
  ASSERT_OK_AND_ASSIGN(std::vector<Sample> s, ParseText(reg.Render()));
  EXPECT_EQ(FindSample(s, "granary_test_total"), 400000);
  EXPECT_EQ(FindSample(s, "granary_test_seconds_count"), 400000);
  EXPECT_EQ(FindSample(s, "granary_test_seconds_bucket", {{"le", "+Inf"}}), 400000);
}

TEST(RegistryDeathTest, BadNamesAbort) {
  Registry reg;
  EXPECT_DEATH(reg.AddCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(reg.AddCounter("granary_ok", "x", {"le"}), "invalid label name");
  reg.AddGauge("granary_twice", "x");
  EXPECT_DEATH(reg.AddGauge("granary_twice", "x"), "duplicate metric");
}

}  // namespace
}  // namespace granary::metrics
