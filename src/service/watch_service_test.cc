#include "service/watch_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "common/strings.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::FakeClock;
using rollgate::testing::MondayMorning;
using ::testing::HasSubstr;

// Answers by URL; a URL not set answers "connection refused". Records every URL asked.
class FakeProber final : public HttpProber {
 public:
  ProbeResponse Get(const std::string& url, milliseconds, size_t) override {
    asked.push_back(url);
    auto it = answers.find(url);
    if (it != answers.end()) return it->second;
    ProbeResponse refused;
    refused.error = "connection refused";
    return refused;
  }
  void Healthy(const std::string& host, double ms = 20) {
    for (const char* path : {"/health", "/ready"}) {
      ProbeResponse r;
      r.ok = true;
      r.http_status = 200;
      r.ms = ms;
      answers[fmt::format("http://{}:8080{}", host, path)] = r;
    }
  }
  void Down(const std::string& host) {
    answers.erase(fmt::format("http://{}:8080/health", host));
    answers.erase(fmt::format("http://{}:8080/ready", host));
  }
  void Metrics(const std::string& host, double requests, double errors) {
    ProbeResponse r;
    r.ok = true;
    r.http_status = 200;
    r.body = fmt::format(
        "# TYPE http_requests_total counter\nhttp_requests_total{{code=\"200\"}} {}\n"
        "http_errors_total {}\n",
        requests, errors);
    answers[fmt::format("http://{}:8080/metrics", host)] = r;
  }

  std::map<std::string, ProbeResponse> answers;
  std::vector<std::string> asked;
};

// A stand-in for domain/triggers.cc: health failing, availability < min, errors >= max and
// degradation > max fire with action rollback.
WatchTriggers FakeTriggers() {
  WatchTriggers t;
  t.policies = [](const Config&, const System&, const Environment&) {
    return std::vector<TriggerPolicy>{};
  };
  t.evaluate = [](const Measurements& m, const std::vector<TriggerPolicy>&,
                  const Thresholds& thresholds) {
    std::vector<TriggerFiring> out;
    auto fire = [&](TriggerKind kind, double measurement, double threshold, std::string what) {
      TriggerFiring f;
      f.kind = kind;
      f.measurement = measurement;
      f.threshold = threshold;
      f.host = m.host;
      f.source = m.source;
      f.detail = std::move(what);
      f.at = m.at;
      out.push_back(f);
    };
    if (m.health_ok == false) fire(TriggerKind::kHealth, 0, 1, "health failing on " + m.host);
    if (m.error_percent && *m.error_percent >= thresholds.max_users_affected_percent) {
      fire(TriggerKind::kUsersAffected, *m.error_percent, thresholds.max_users_affected_percent,
           fmt::format("errors {:.1f} %", *m.error_percent));
    }
    if (m.degradation_percent &&
        *m.degradation_percent > thresholds.max_performance_degradation_percent) {
      fire(TriggerKind::kResponseTime, *m.degradation_percent, 20,
           fmt::format("response time {:.0f} % worse", *m.degradation_percent));
    }
    if (m.critical_alerts && *m.critical_alerts > 0) {
      fire(TriggerKind::kCriticalAlerts, *m.critical_alerts, 1,
           "critical alerts: " + m.critical_alerts_detail);
    }
    return out;
  };
  t.evidence = [](const TriggerFiring& f, const std::string& environment,
                  const std::string& run_id) {
    Evidence e;
    e.kind = kEvidenceTrigger;
    e.environment = environment;
    e.run_id = run_id;
    e.passed = false;
    e.value = f.measurement;
    e.detail = f.detail;
    e.fields = {{"kind", std::to_string(static_cast<int>(f.kind))}, {"host", f.host}};
    return e;
  };
  t.from_evidence = [](const Evidence& e) -> Result<TriggerFiring> {
    TriggerFiring f;
    f.kind = static_cast<TriggerKind>(std::stoi(e.fields.at("kind")));
    f.host = e.fields.at("host");
    f.detail = e.detail;
    f.measurement = e.value.value_or(0);
    return f;
  };
  return t;
}

struct Fired {
  std::string cr, env;
  std::vector<TriggerFiring> firings;
};

class WatchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-watch-service");
    auto opened = OpenStore("sqlite:" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    store_ = std::move(*opened);
    ChangeRequest cr =
        rollgate::testing::SampleChangeRequest(config_, rollgate::testing::SamplePatch());
    cr.id = "CR-1";
    cr.number = 1;
    cr.state = CrState::kCompleted;
    rollgate::Run run;
    run.id = "RUN-1";
    run.change_request = "CR-1";
    run.environment = "PROD";
    run.system = "billing";
    run.state = RunState::kSucceeded;
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) {
                      RETURN_IF_ERROR(tx.PutChangeRequest(cr));
                      return tx.PutRun(run);
                    })
                    .ok());
    prober_.Healthy("prod-billing-1");
    prober_.Healthy("prod-billing-2");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<WatchService> MakeService() {
    return std::make_unique<WatchService>(
        config_, *store_, clock_, prober_, FakeTriggers(), prometheus_,
        [this](const std::string& cr, const std::string& env,
               const std::vector<TriggerFiring>& firings) {
          fired_.push_back({cr, env, firings});
          return on_fire_status_;
        },
        WatchOptions{.alertmanager = alertmanager_});
  }

  ChangeRequest LoadCr() { return rollgate::testing::StoredChangeRequest(*store_, "CR-1"); }
  std::vector<Evidence> EvidenceOf(const std::string& kind) {
    std::vector<Evidence> out;
    for (const Evidence& e : LoadCr().evidence) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<std::string> AuditActions() {
    std::vector<std::string> out;
    auto events = store_->AuditEventsFor("CR-1");
    EXPECT_TRUE(events.ok());
    for (const AuditEvent& e : *events) out.push_back(e.action);
    return out;
  }
  // Ticks every interval until `until`, as `watch run` would; returns every event.
  void ProbeEvery(Seconds interval) {
    for (Environment& e : config_.environments) e.thresholds.watch_interval = interval;
  }
  std::vector<WatchEvent> RunUntil(WatchService& service, Timestamp until) {
    std::vector<WatchEvent> all;
    while (clock_.Now() <= until) {
      auto events = service.Tick(clock_.Now());
      EXPECT_TRUE(events.ok()) << events.error().message();
      if (!events.ok()) break;
      all.insert(all.end(), events->begin(), events->end());
      auto next = service.NextDue(clock_.Now());
      if (!next.ok() || !next->has_value()) break;
      clock_.Set(std::max(**next, clock_.Now() + seconds(1)));
    }
    return all;
  }

  Config config_ = rollgate::testing::SampleConfig();
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{MondayMorning()};
  FakeProber prober_;
  PrometheusQuery prometheus_;
  AlertmanagerCheck alertmanager_;
  std::vector<Fired> fired_;
  Status on_fire_status_;
};

TEST_F(WatchServiceTest, StartStoresTheWatchWithItsAuditEvent) {
  auto service = MakeService();
  auto watch = service->StartWatch("CR-1", "PROD", "RUN-1", false, 40.0, "opal");
  ASSERT_TRUE(watch.ok()) << watch.error().message();
  EXPECT_EQ(watch->ends_at, MondayMorning() + hours(72));
  EXPECT_EQ(watch->baseline_ms, 40.0);
  EXPECT_THAT(AuditActions(), ::testing::Contains("watch.start"));
  auto again = service->StartWatch("CR-1", "PROD", "RUN-1", false, 40.0, "opal");
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_EQ(service->StartWatch("CR-9", "PROD", "RUN-1", false, {}, "opal").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service->StartWatch("CR-1", "PROD", "RUN-7", false, {}, "opal").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service->StartWatch("CR-1", "QA", "RUN-1", false, {}, "opal").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service->StartWatch("CR-1", "TEST", "RUN-1", false, {}, "opal").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WatchServiceTest, HealthyServiceIsWatchedFor72HoursAndPasses) {
  ProbeEvery(minutes(10));
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  std::vector<WatchEvent> events = RunUntil(*service, MondayMorning() + hours(80));
  EXPECT_TRUE(fired_.empty());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().what, "ended");
  EXPECT_EQ(events.back().watch.state, WatchState::kEnded);
  // One probe round every 10 minutes for 72 hours, two endpoints on two hosts.
  EXPECT_EQ(events.back().watch.probes, 72 * 6 * 4);
  EXPECT_THAT(prober_.asked, ::testing::Contains("http://prod-billing-2:8080/ready"));
  std::vector<Evidence> monitoring = EvidenceOf(kEvidenceMonitoring);
  ASSERT_EQ(monitoring.size(), 1U);
  EXPECT_TRUE(monitoring[0].passed.value_or(false));
  EXPECT_EQ(monitoring[0].value, 100.0);
  EXPECT_EQ(monitoring[0].at, MondayMorning() + hours(72));
  EXPECT_THAT(monitoring[0].detail, HasSubstr("nothing fired"));
  EXPECT_TRUE(EvidenceOf(kEvidenceWatchCheckin).empty()) << "not an emergency change";
  EXPECT_THAT(AuditActions(), ::testing::Contains("watch.end"));
  auto active = service->ListWatches(false);
  ASSERT_TRUE(active.ok());
  EXPECT_TRUE(active->empty());
}

TEST_F(WatchServiceTest, EmergencyChangeGetsEightHourlyCheckins) {
  ProbeEvery(minutes(5));
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", true, {}, "opal").ok());
  prober_.Metrics("prod-billing-1", 100, 0);
  prober_.Metrics("prod-billing-2", 100, 0);
  RunUntil(*service, MondayMorning() + hours(10));
  std::vector<Evidence> checkins = EvidenceOf(kEvidenceWatchCheckin);
  ASSERT_EQ(checkins.size(), 8U);
  EXPECT_EQ(checkins[0].at, MondayMorning() + hours(1));
  EXPECT_EQ(checkins[7].at, MondayMorning() + hours(8));
  EXPECT_EQ(checkins[0].fields.at("availability"), "100.0 %");
  EXPECT_EQ(checkins[0].fields.at("worst_host"), "");
  EXPECT_EQ(checkins[0].fields.at("checkin"), "1 of 8");
  EXPECT_TRUE(checkins[0].passed.value_or(false));
}

TEST_F(WatchServiceTest, FailingHealthFiresRecordsEvidenceAndCallsTheResponse) {
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  RunUntil(*service, MondayMorning() + minutes(5));
  EXPECT_TRUE(fired_.empty());
  prober_.Down("prod-billing-2");
  clock_.Set(MondayMorning() + minutes(6));
  auto events = service->Tick(clock_.Now());
  ASSERT_TRUE(events.ok()) << events.error().message();
  ASSERT_EQ(fired_.size(), 1U);
  EXPECT_EQ(fired_[0].cr, "CR-1");
  EXPECT_EQ(fired_[0].env, "PROD");
  ASSERT_EQ(fired_[0].firings.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kHealth);
  EXPECT_EQ(fired_[0].firings[0].host, "prod-billing-2");
  std::vector<Evidence> triggers = EvidenceOf(kEvidenceTrigger);
  ASSERT_EQ(triggers.size(), 1U);
  EXPECT_EQ(triggers[0].run_id, "RUN-1");
  EXPECT_EQ(triggers[0].recorded_by, "system");
  std::vector<Evidence> monitoring = EvidenceOf(kEvidenceMonitoring);
  ASSERT_EQ(monitoring.size(), 1U);
  EXPECT_FALSE(monitoring[0].passed.value_or(true));
  auto all = service->ListWatches(true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ((*all)[0].state, WatchState::kFired);
  EXPECT_FALSE((*all)[0].response_pending);
  EXPECT_THAT((*all)[0].fired_detail, HasSubstr("health failing on prod-billing-2"));
  EXPECT_THAT(AuditActions(), ::testing::Contains("watch.fire"));
  // A fired watch probes no more.
  size_t asked = prober_.asked.size();
  clock_.Set(MondayMorning() + minutes(30));
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  EXPECT_EQ(prober_.asked.size(), asked);
  EXPECT_EQ(fired_.size(), 1U);
}

TEST_F(WatchServiceTest, ErrorShareFromCountersFires) {
  config_.systems[0].metrics.requests_metric = "http_requests_total";
  config_.systems[0].metrics.errors_metric = "http_errors_total";
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  prober_.Metrics("prod-billing-1", 1000, 0);
  prober_.Metrics("prod-billing-2", 1000, 0);
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  prober_.Metrics("prod-billing-1", 1100, 1);
  prober_.Metrics("prod-billing-2", 1100, 8);  // 8 % of the last 100 requests failed
  clock_.Advance(minutes(1));
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  ASSERT_EQ(fired_.size(), 1U);
  ASSERT_EQ(fired_[0].firings.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kUsersAffected);
  EXPECT_EQ(fired_[0].firings[0].host, "prod-billing-2");
  EXPECT_EQ(fired_[0].firings[0].measurement, 8.0);
}

TEST_F(WatchServiceTest, PrometheusQueryIsEvaluatedForTheEnvironment) {
  config_.systems[0].metrics.prometheus_url = "http://127.0.0.1:9090";
  config_.systems[0].metrics.prometheus_query = "errors";
  std::vector<std::string> queried;
  prometheus_ = [&](const std::string& url, const std::string& query) -> Result<double> {
    queried.push_back(url + " " + query);
    return 12.5;
  };
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  EXPECT_EQ(queried, std::vector<std::string>{"http://127.0.0.1:9090 errors"});
  ASSERT_EQ(fired_.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kUsersAffected);
  EXPECT_EQ(fired_[0].firings[0].host, "");
}

TEST_F(WatchServiceTest, UnreachablePrometheusIsDataNotAnError) {
  config_.systems[0].metrics.prometheus_query = "errors";
  prometheus_ = [](const std::string&, const std::string&) -> Result<double> {
    return Unavailable("connection refused");
  };
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  auto events = service->Tick(clock_.Now());
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1U);
  EXPECT_THAT((*events)[0].detail, HasSubstr("prometheus: connection refused"));
  EXPECT_TRUE(fired_.empty());
}

TEST_F(WatchServiceTest, FiringCriticalAlertsFireAndTheCheckIsRecordedOnChangesOnly) {
  ProbeEvery(seconds(60));
  config_.systems[0].alertmanager.url = "http://user:pw@127.0.0.1:9093/am";
  config_.systems[0].alertmanager.matchers = {"system=billing", "env={environment}"};
  std::vector<std::string> asked;
  std::vector<FiringAlert> firing;
  alertmanager_ = [&](const System::AlertmanagerSource& source,
                      const std::string& environment) -> Result<std::vector<FiringAlert>> {
    asked.push_back(Join(ExpandedMatchers(source, environment), ","));
    return firing;
  };
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  // Three quiet rounds: one "alerts" evidence (the first), nothing fired.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(service->Tick(clock_.Now()).ok());
    clock_.Advance(seconds(60));
  }
  EXPECT_EQ(asked.size(), 3U);
  EXPECT_EQ(asked[0], "system=billing,env=PROD");
  std::vector<Evidence> alerts = EvidenceOf(kEvidenceAlerts);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].passed, true);
  EXPECT_EQ(alerts[0].run_id, "RUN-1");
  EXPECT_EQ(alerts[0].fields.at("alertmanager"), "http://127.0.0.1:9093");
  EXPECT_TRUE(fired_.empty());

  firing = {{"HighErrorRate", "critical", "active"}};
  auto events = service->Tick(clock_.Now());
  ASSERT_TRUE(events.ok()) << events.error().message();
  ASSERT_EQ(fired_.size(), 1U);
  ASSERT_EQ(fired_[0].firings.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kCriticalAlerts);
  EXPECT_THAT(fired_[0].firings[0].detail, HasSubstr("HighErrorRate"));
  EXPECT_EQ(fired_[0].firings[0].source, "alertmanager http://127.0.0.1:9093");
  alerts = EvidenceOf(kEvidenceAlerts);
  ASSERT_EQ(alerts.size(), 2U);
  EXPECT_EQ(alerts[1].passed, false);
  EXPECT_THAT(alerts[1].detail, HasSubstr("HighErrorRate"));
}

TEST_F(WatchServiceTest, AnUnreachableAlertmanagerIsAFailedCheckNotAnAlert) {
  ProbeEvery(seconds(60));
  config_.systems[0].alertmanager.url = "http://127.0.0.1:9093";
  config_.systems[0].alertmanager.matchers = {"system=billing"};
  bool down = true;
  alertmanager_ = [&](const System::AlertmanagerSource&,
                      const std::string&) -> Result<std::vector<FiringAlert>> {
    if (down) return Unavailable("Alertmanager http://127.0.0.1:9093: Couldn't connect to server");
    return std::vector<FiringAlert>{};
  };
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  std::vector<WatchEvent> all;
  for (int i = 0; i < 3; ++i) {
    auto events = service->Tick(clock_.Now());
    ASSERT_TRUE(events.ok()) << events.error().message();
    all.insert(all.end(), events->begin(), events->end());
    clock_.Advance(seconds(60));
  }
  EXPECT_TRUE(fired_.empty());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].what, "probed");
  EXPECT_THAT(all[0].detail, HasSubstr("alertmanager unreachable"));
  std::vector<Evidence> alerts = EvidenceOf(kEvidenceAlerts);
  ASSERT_EQ(alerts.size(), 1U);  // recorded once, not every round
  EXPECT_EQ(alerts[0].passed, false);
  EXPECT_THAT(alerts[0].detail, HasSubstr("unreachable"));
  EXPECT_FALSE(alerts[0].value.has_value());
  // Back again: recorded as passing.
  down = false;
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  alerts = EvidenceOf(kEvidenceAlerts);
  ASSERT_EQ(alerts.size(), 2U);
  EXPECT_EQ(alerts[1].passed, true);
  EXPECT_TRUE(fired_.empty());
}

TEST_F(WatchServiceTest, SlowAnswersAgainstTheBaselineFire) {
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, 20.0, "opal").ok());
  ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  EXPECT_TRUE(fired_.empty());
  prober_.Healthy("prod-billing-1", 40);
  for (int i = 1; i <= 3 && fired_.empty(); ++i) {
    clock_.Advance(minutes(1));
    ASSERT_TRUE(service->Tick(clock_.Now()).ok());
  }
  ASSERT_EQ(fired_.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kResponseTime);
  EXPECT_EQ(fired_[0].firings[0].host, "prod-billing-1");
}

TEST_F(WatchServiceTest, ANewServiceOverTheSameStoreContinuesTheWatch) {
  ProbeEvery(minutes(5));
  {
    auto first = MakeService();
    ASSERT_TRUE(first->StartWatch("CR-1", "PROD", "RUN-1", true, {}, "opal").ok());
    RunUntil(*first, MondayMorning() + minutes(90));
  }
  // "Restart": a new service object; the probe history and schedule come from the row.
  auto second = MakeService();
  auto active = second->ListWatches(false);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1U);
  EXPECT_EQ((*active)[0].last_checkin_at, MondayMorning() + hours(1));
  EXPECT_EQ((*active)[0].probes, 19 * 4);  // every 5 minutes from 0 to 90
  auto next = second->NextDue(clock_.Now());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_LE(**next, clock_.Now() + minutes(5));
  RunUntil(*second, MondayMorning() + hours(73));
  EXPECT_EQ(EvidenceOf(kEvidenceWatchCheckin).size(), 8U);
  std::vector<Evidence> monitoring = EvidenceOf(kEvidenceMonitoring);
  ASSERT_EQ(monitoring.size(), 1U);
  EXPECT_TRUE(monitoring[0].passed.value_or(false));
  EXPECT_EQ(monitoring[0].fields.at("probes"), std::to_string(72 * 12 * 4));
}

TEST_F(WatchServiceTest, AFiringNotYetRespondedToIsHandedOverAfterARestart) {
  {
    auto first = MakeService();
    ASSERT_TRUE(first->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  }
  // Simulate a crash between storing the firing and running the response: the response
  // callback throws nothing but the process "dies" (we store the fired state ourselves).
  prober_.Down("prod-billing-1");
  {
    WatchService crashing(
        config_, *store_, clock_, prober_, FakeTriggers(), nullptr,
        [](const std::string&, const std::string&, const std::vector<TriggerFiring>&) -> Status {
          throw std::runtime_error("killed");
        });
    EXPECT_THROW((void)crashing.Tick(clock_.Now()), std::runtime_error);
  }
  auto all = MakeService()->ListWatches(true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ((*all)[0].state, WatchState::kFired);
  EXPECT_TRUE((*all)[0].response_pending);

  auto second = MakeService();
  auto next = second->NextDue(clock_.Now() + minutes(3));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, clock_.Now() + minutes(3));
  auto events = second->Tick(clock_.Now() + minutes(3));
  ASSERT_TRUE(events.ok()) << events.error().message();
  ASSERT_EQ(fired_.size(), 1U);
  ASSERT_EQ(fired_[0].firings.size(), 1U);
  EXPECT_EQ(fired_[0].firings[0].kind, TriggerKind::kHealth);
  EXPECT_EQ(fired_[0].firings[0].host, "prod-billing-1");
  EXPECT_EQ(EvidenceOf(kEvidenceTrigger).size(), 1U) << "the firing is recorded once";
  // Handed over once only.
  ASSERT_TRUE(second->Tick(clock_.Now() + minutes(4)).ok());
  EXPECT_EQ(fired_.size(), 1U);
}

TEST_F(WatchServiceTest, StopEndsTheActiveWatchWithItsReason) {
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  auto stopped = service->StopWatch("CR-1", "PROD", "maintenance of the probes", "opal");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state, WatchState::kStopped);
  EXPECT_EQ(stopped->stop_reason, "stopped by opal: maintenance of the probes");
  EXPECT_EQ(service->StopWatch("CR-1", "PROD", "", "opal").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(AuditActions(), ::testing::Contains("watch.stop"));
  auto events = service->Tick(clock_.Now());
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  EXPECT_TRUE(prober_.asked.empty());
}

TEST_F(WatchServiceTest, StoreFailuresAreErrors) {
  auto service = MakeService();
  ASSERT_TRUE(service->StartWatch("CR-1", "PROD", "RUN-1", false, {}, "opal").ok());
  store_.reset();
  auto reopened = OpenStore("sqlite:" + (dir_ / "state.db").string());
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  // A store that refuses every write: the tick reports it instead of carrying on.
  class ReadOnly final : public Store {
   public:
    explicit ReadOnly(Store& s) : s_(s) {}
    Status Write(const std::function<Status(Transaction&)>&) override {
      return Unavailable("disk full");
    }
    Status Read(const std::function<Status(Transaction&)>& body) override { return s_.Read(body); }
    Result<AuditVerification> VerifyAudit() override { return s_.VerifyAudit(); }
    Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& f) override {
      return s_.ForEachAuditEvent(f);
    }
    Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& o) override {
      return s_.AuditEventsFor(o);
    }
    Status CheckIntegrity() override { return s_.CheckIntegrity(); }

   private:
    Store& s_;
  } read_only(*store_);
  WatchService failing(config_, read_only, clock_, prober_, FakeTriggers(), nullptr, nullptr);
  auto events = failing.Tick(clock_.Now());
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().code(), StatusCode::kUnavailable);
}

TEST(BaselineFromEvidenceTest, MeanOfTheHostsBaselinesOfThatRun) {
  ChangeRequest cr;
  Evidence other;
  other.kind = kEvidenceMetrics;
  other.environment = "PROD";
  other.run_id = "RUN-0";
  other.fields = {{"h1.baseline_ms", "999"}};
  Evidence e = other;
  e.run_id = "RUN-1";
  e.fields = {{"h1.baseline_ms", "30"}, {"h2.baseline_ms", "50"}, {"h1.median_ms", "70"}};
  cr.evidence = {other, e};
  EXPECT_EQ(BaselineFromEvidence(cr, "PROD", "RUN-1"), 40.0);
  EXPECT_FALSE(BaselineFromEvidence(cr, "PROD", "RUN-2").has_value());
}

}  // namespace
}  // namespace rollgate
