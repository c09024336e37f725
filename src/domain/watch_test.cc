#include "domain/watch.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;

Thresholds DefaultThresholds() { return Thresholds{}; }

Watch Started(bool emergency) {
  return NewWatch("CR-1", "PROD", "RUN-3", "billing", emergency, 120.0, DefaultThresholds(),
                  MondayMorning());
}

TEST(WatchTest, NewWatchTakesItsScheduleFromTheThresholds) {
  Thresholds t;
  t.enhanced_monitoring = hours(48);
  t.watch_interval = seconds(30);
  t.emergency_checkins_for = hours(6);
  Watch w = NewWatch("CR-1", "PROD", "RUN-3", "billing", true, std::nullopt, t, MondayMorning());
  EXPECT_EQ(w.state, WatchState::kActive);
  EXPECT_EQ(w.ends_at, MondayMorning() + hours(48));
  EXPECT_EQ(w.interval, seconds(30));
  EXPECT_EQ(w.checkins_until, MondayMorning() + hours(6));
  EXPECT_EQ(w.next_probe_at, MondayMorning());
  EXPECT_FALSE(w.baseline_ms.has_value());

  Watch standard = Started(false);
  EXPECT_EQ(standard.ends_at, MondayMorning() + hours(72));
  EXPECT_FALSE(standard.checkins_until.has_value());
  EXPECT_EQ(standard.baseline_ms, 120.0);
}

TEST(WatchTest, ProbeIsDueAtNextProbeTimeUntilTheEnd) {
  Watch w = Started(false);
  EXPECT_TRUE(ProbeDue(w, MondayMorning()));
  w.next_probe_at = MondayMorning() + minutes(1);
  EXPECT_FALSE(ProbeDue(w, MondayMorning() + seconds(59)));
  EXPECT_TRUE(ProbeDue(w, MondayMorning() + minutes(1)));
  EXPECT_FALSE(WatchEnded(w, MondayMorning() + hours(72) - seconds(1)));
  EXPECT_TRUE(WatchEnded(w, MondayMorning() + hours(72)));
  w.next_probe_at = MondayMorning() + hours(80);
  EXPECT_FALSE(ProbeDue(w, MondayMorning() + hours(73)));
  w.state = WatchState::kStopped;
  EXPECT_FALSE(ProbeDue(w, MondayMorning() + hours(90)));
  EXPECT_FALSE(WatchEnded(w, MondayMorning() + hours(90)));
  EXPECT_FALSE(NextDue(w).has_value());
}

TEST(WatchTest, EmergencyWatchChecksInHourlyForEightHours) {
  Watch w = Started(true);
  w.next_probe_at = MondayMorning() + hours(100);  // only check-ins matter here
  EXPECT_FALSE(CheckinDue(w, MondayMorning() + minutes(59)));
  EXPECT_EQ(NextDue(w), MondayMorning() + hours(1));
  int checkins = 0;
  for (Timestamp now = MondayMorning(); now < MondayMorning() + hours(12); now += minutes(1)) {
    if (CheckinDue(w, now)) {
      ++checkins;
      MarkCheckin(w, now);
    }
  }
  EXPECT_EQ(checkins, 8);
  EXPECT_EQ(w.last_checkin_at, MondayMorning() + hours(8));
  EXPECT_FALSE(NextCheckin(w).has_value());
  EXPECT_EQ(NextDue(w), MondayMorning() + hours(72));  // the end comes before that probe
}

TEST(WatchTest, StandardWatchHasNoCheckins) {
  Watch w = Started(false);
  EXPECT_FALSE(CheckinDue(w, MondayMorning() + hours(2)));
  EXPECT_FALSE(NextCheckin(w).has_value());
}

TEST(WatchTest, AvailabilityCountsSamplesWithinTheWindow) {
  Watch w = Started(false);
  Seconds window = minutes(10);
  // 20 minutes of probes, one a minute: failures in the first 10 minutes only.
  for (int i = 0; i < 20; ++i) {
    AddSample(w, {MondayMorning() + minutes(i), "app1", i >= 10, 100.0}, window);
  }
  Timestamp now = MondayMorning() + minutes(19);
  EXPECT_EQ(AvailabilityPercent(w, "app1", now, window), 100.0);
  EXPECT_EQ(AvailabilityPercent(w, "", now, window), 100.0);
  EXPECT_FALSE(AvailabilityPercent(w, "app2", now, window).has_value());
  EXPECT_EQ(w.probes, 20);
  EXPECT_EQ(w.failed_probes, 10);
  EXPECT_EQ(OverallAvailabilityPercent(w), 50.0);
  // Samples older than the window were dropped from the row.
  EXPECT_EQ(w.samples.size(), 10u);

  AddSample(w, {MondayMorning() + minutes(20), "app1", false, std::nullopt}, window);
  EXPECT_EQ(AvailabilityPercent(w, "app1", MondayMorning() + minutes(20), window), 90.0);
}

TEST(WatchTest, SamplesAreBoundedWhateverTheWindow) {
  Watch w = Started(false);
  for (size_t i = 0; i < kMaxWatchSamples + 500; ++i) {
    AddSample(w, {MondayMorning() + seconds(static_cast<int64_t>(i)), "h", true, 1.0}, hours(72));
  }
  EXPECT_EQ(w.samples.size(), kMaxWatchSamples);
  EXPECT_EQ(w.samples.front().at, MondayMorning() + seconds(500));
  EXPECT_EQ(w.probes, static_cast<int64_t>(kMaxWatchSamples + 500));
}

TEST(WatchTest, ErrorShareComesFromCounterDeltas) {
  EXPECT_EQ(ErrorPercent({{}, 1000, 10}, {{}, 1200, 30}), 10.0);
  EXPECT_FALSE(ErrorPercent({{}, 1000, 10}, {{}, 1000, 10}).has_value());  // no requests
  EXPECT_FALSE(ErrorPercent({{}, 1000, 10}, {{}, 50, 1}).has_value());     // restarted

  Watch w = Started(false);
  EXPECT_FALSE(AddCounterReading(w, "app1", {MondayMorning(), 1000, 0}).has_value());
  EXPECT_EQ(AddCounterReading(w, "app1", {MondayMorning() + minutes(1), 1100, 5}), 5.0);
  EXPECT_EQ(w.last_error_percent, 5.0);
  EXPECT_EQ(AddCounterReading(w, "app2", {MondayMorning(), 10, 0}), std::nullopt);
  EXPECT_EQ(AddCounterReading(w, "app2", {MondayMorning() + minutes(1), 110, 0}), 0.0);
  // Over both hosts: 10 errors in 200 requests.
  EXPECT_EQ(OverallErrorPercent(w), 2.5);
  // app1 restarts: its counters begin again; what was counted before is kept.
  EXPECT_FALSE(AddCounterReading(w, "app1", {MondayMorning() + minutes(2), 20, 0}).has_value());
  EXPECT_EQ(AddCounterReading(w, "app1", {MondayMorning() + minutes(3), 120, 10}), 10.0);
  // app1: 100 + 100 requests, 5 + 10 errors; app2: 100 requests, 0 errors.
  EXPECT_EQ(OverallErrorPercent(w), 5.0);
}

TEST(WatchTest, DegradationComparesTheMedianWithTheBaseline) {
  Watch w = Started(false);
  Seconds window = minutes(10);
  for (double ms : {100.0, 150.0, 130.0, 500.0}) {
    AddSample(w, {MondayMorning(), "app1", true, ms}, window);
  }
  AddSample(w, {MondayMorning(), "app1", false, 9000.0}, window);  // failures are not timed
  std::optional<double> median = MedianProbeMs(w, "app1", MondayMorning(), window);
  ASSERT_TRUE(median.has_value());
  EXPECT_EQ(*median, 140.0);
  EXPECT_NEAR(*DegradationPercent(*median, 120.0), 16.666, 0.01);
  EXPECT_EQ(DegradationPercent(96.0, 120.0), -20.0);
  EXPECT_FALSE(DegradationPercent(100.0, 0).has_value());
  EXPECT_FALSE(MedianProbeMs(w, "app2", MondayMorning(), window).has_value());
}

TEST(WatchTest, WorstHostIsTheOneWithMostFailuresSinceTheCheckin) {
  Watch w = Started(true);
  AddSample(w, {MondayMorning(), "app1", false, std::nullopt}, minutes(10));
  AddSample(w, {MondayMorning(), "app2", false, std::nullopt}, minutes(10));
  AddSample(w, {MondayMorning(), "app2", false, std::nullopt}, minutes(10));
  EXPECT_EQ(WorstHostOfPeriod(w), "app2");
  MarkCheckin(w, MondayMorning() + hours(1));
  EXPECT_EQ(WorstHostOfPeriod(w), "");
  EXPECT_EQ(w.period_probes, 0);
  EXPECT_EQ(w.probes, 3);
}

TEST(WatchTest, PrometheusCountersAreSummedOverLabelSets) {
  std::string text =
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\",path=\"/a}b\"} 1027 1395066363000\n"
      "http_requests_total{code=\"500\"} 3\n"
      "http_requests_total_created 1.7e9\n"
      "http_errors_total 3.5e1\n"
      "other 1\n";
  EXPECT_EQ(SumPrometheusMetric(text, "http_requests_total").value(), 1030.0);
  EXPECT_EQ(SumPrometheusMetric(text, "http_errors_total").value(), 35.0);
  Result<double> missing = SumPrometheusMetric(text, "nope_total");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  Result<double> bad = SumPrometheusMetric("x_total{a=\"1\"} many\n", "x_total");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("line 1"), std::string::npos);
}

TEST(WatchTest, StateNamesRoundTrip) {
  for (WatchState s :
       {WatchState::kActive, WatchState::kFired, WatchState::kEnded, WatchState::kStopped}) {
    EXPECT_EQ(ParseWatchState(WatchStateName(s)).value(), s);
  }
  EXPECT_FALSE(ParseWatchState("paused").ok());
}

}  // namespace
}  // namespace rollgate
