// Store benchmarks (Google Benchmark) on real SQLite files in a temporary directory
// ($ROLLGATE_BENCH_DIR, else the system's temporary directory — put it on the disk you deploy on:
// the durable-write figure is a measure of fsync):
//   BM_VerifyAudit                `audit verify` over 1,000,000 events (target < 2 s)
//   BM_ReadAuditLog               the same walk without hashing: the store's share of it
//   BM_ListChangeRequests         `cr list` over 100,000 CRs (target < 200 ms), and filtered
//   BM_OpenAndListChangeRequests  the same from a freshly opened store, as one CLI process
//   BM_CreateChangeRequests       10,000 CRs, each with its audit event in its own durable Write
// Data sets are built once per process, each in one transaction. BM_CreateChangeRequests is
// bound by fsync (synchronous=FULL: one per commit), so it takes 10,000 fsync latencies.
// Run: build/release/bench/store_bench
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"

namespace rollgate {
namespace {

constexpr int kAuditEvents = 1'000'000;
constexpr int kListedCrs = 100'000;
constexpr int kCreatedCrs = 10'000;

std::filesystem::path BenchRoot() {
  static const std::filesystem::path root = [] {
    const char* configured = std::getenv("ROLLGATE_BENCH_DIR");
    std::filesystem::path base =
        configured ? std::filesystem::path(configured) : std::filesystem::temp_directory_path();
    std::random_device random;
    auto path = base / fmt::format("rollgate-store-bench-{:08x}", random());
    std::filesystem::create_directories(path);
    return path;
  }();
  return root;
}

std::unique_ptr<Store> OpenOrDie(const std::string& name) {
  auto store = OpenSqliteStore(BenchRoot() / name / "state.db");
  if (!store.ok()) {
    fmt::print(stderr, "cannot open the benchmark store: {}\n", store.error().ToString());
    std::exit(1);
  }
  return std::move(store).value();
}

void CheckOrDie(const Status& status, std::string_view what) {
  if (!status.ok()) {
    fmt::print(stderr, "{}: {}\n", what, status.ToString());
    std::exit(1);
  }
}

// A realistic CR: a few approvals, evidence and an attachment, varied states and systems.
ChangeRequest MakeChangeRequest(int number) {
  static const char* kSystems[] = {"billing", "crm", "payments", "portal", "warehouse"};
  static const CrState kStates[] = {CrState::kDraft, CrState::kSubmitted, CrState::kInProgress,
                                    CrState::kCompleted, CrState::kClosed};
  Timestamp t = testing::MondayMorning() + std::chrono::minutes(number);
  ChangeRequest cr;
  cr.id = fmt::format("CR-{}", number);
  cr.number = number;
  cr.patch_id = fmt::format("PATCH-{}", number % 500 + 1);
  cr.system = kSystems[number % 5];
  cr.title = fmt::format("[{}] - [Security] - [2026-11-30]", cr.system);
  cr.classification = static_cast<Priority>(number % 4 + 1);
  cr.emergency = number % 50 == 0;
  cr.description = "Apply the vendor's security update to close CVE-2026-12345.";
  cr.affected_systems = {cr.system};
  cr.type = ChangeType::kSecurity;
  cr.implementation_plan = "1. backup\n2. stop service\n3. install package\n4. start\n5. smoke";
  cr.rollback_plan = "restore the backup and restart the service";
  cr.risk_assessment = "medium: service restart";
  cr.test_plan = "regression suite, UAT";
  cr.expected_downtime = std::chrono::minutes(15);
  cr.requester = "alice";
  cr.created_at = t;
  cr.submitted_at = t + std::chrono::minutes(5);
  cr.scheduled = {{"DEV", t + std::chrono::hours(1)}, {"TEST", t + std::chrono::hours(26)}};
  cr.state = kStates[number % 5];
  cr.attachments = {{"release-notes", "notes.pdf", std::string(64, 'a'), 4096, "alice", t}};
  cr.approvals = {{"DEV", "dave", "development-lead", t, 1, false, "", "", std::nullopt, false},
                  {"PROD", "carol", "cab-chair", t, 1, number % 97 == 0, "sam", "", std::nullopt,
                   number % 97 == 0}};
  Evidence evidence;
  evidence.environment = "DEV";
  evidence.kind = kEvidenceRegression;
  evidence.value = 97.5;
  evidence.recorded_by = "engine";
  evidence.at = t;
  cr.evidence = {evidence};
  cr.updated_at = t;
  return cr;
}

AuditRecord MakeAuditRecord(int n) {
  return AuditRecord{testing::MondayMorning() + std::chrono::seconds(n), "alice", "cr.update",
                     fmt::format("CR-{}", n % 10000 + 1),
                     fmt::format(R"({{"field":"state","from":"submitted","to":"in-progress",)"
                                 R"("n":{}}})",
                                 n)};
}

Store& AuditStore() {
  static std::unique_ptr<Store> store = [] {
    auto s = OpenOrDie("audit");
    CheckOrDie(s->Write([](Transaction& txn) {
      for (int n = 1; n <= kAuditEvents; ++n) {
        RETURN_IF_ERROR(txn.AppendAudit(MakeAuditRecord(n)).status());
      }
      return Status::Ok();
    }),
               "building the audit chain");
    return s;
  }();
  return *store;
}

Store& ListStore() {
  static std::unique_ptr<Store> store = [] {
    auto s = OpenOrDie("list");
    CheckOrDie(s->Write([](Transaction& txn) {
      for (int n = 1; n <= kListedCrs; ++n) {
        RETURN_IF_ERROR(txn.PutChangeRequest(MakeChangeRequest(n)));
      }
      return Status::Ok();
    }),
               "building the change requests");
    return s;
  }();
  return *store;
}

void BM_VerifyAudit(benchmark::State& state) {
  Store& store = AuditStore();
  for (auto _ : state) {
    auto verification = store.VerifyAudit();
    if (!verification.ok() || !verification->ok || verification->events != kAuditEvents) {
      state.SkipWithError("the chain did not verify");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kAuditEvents);
}
BENCHMARK(BM_VerifyAudit)->Unit(benchmark::kMillisecond)->Iterations(3);

// The store's share of BM_VerifyAudit: streaming and decoding the rows, without hashing.
void BM_ReadAuditLog(benchmark::State& state) {
  Store& store = AuditStore();
  for (auto _ : state) {
    int64_t events = 0;
    Status status = store.ForEachAuditEvent([&](const AuditEvent& event) {
      events += event.seq > 0 ? 1 : 0;
      return Status::Ok();
    });
    if (!status.ok() || events != kAuditEvents) {
      state.SkipWithError("the log could not be read");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * kAuditEvents);
}
BENCHMARK(BM_ReadAuditLog)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ListChangeRequests(benchmark::State& state) {
  Store& store = ListStore();
  ChangeRequestFilter filter;
  if (state.range(0) == 1) filter.state = CrState::kSubmitted;
  if (state.range(0) == 2) filter.only_unconfirmed_verbal = true;
  size_t rows = 0;
  for (auto _ : state) {
    Status status = store.Read([&](Transaction& txn) {
      ASSIGN_OR_RETURN(auto list, txn.ListChangeRequests(filter));
      rows = list.size();
      benchmark::DoNotOptimize(list.data());
      return Status::Ok();
    });
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetLabel(state.range(0) == 0   ? "all"
                 : state.range(0) == 1 ? "--state submitted"
                                       : "--overdue candidates");
}
BENCHMARK(BM_ListChangeRequests)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// What one `rollgate cr list` process pays: open the store (cold SQLite cache), list everything.
void BM_OpenAndListChangeRequests(benchmark::State& state) {
  ListStore();
  size_t rows = 0;
  for (auto _ : state) {
    auto store = OpenOrDie("list");
    Status status = store->Read([&](Transaction& txn) {
      ASSIGN_OR_RETURN(auto list, txn.ListChangeRequests({}));
      rows = list.size();
      return Status::Ok();
    });
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_OpenAndListChangeRequests)->Unit(benchmark::kMillisecond);

void BM_CreateChangeRequests(benchmark::State& state) {
  int round = 0;
  for (auto _ : state) {
    auto store = OpenOrDie(fmt::format("create-{}", round++));
    for (int i = 0; i < kCreatedCrs; ++i) {
      Status status = store->Write([](Transaction& txn) {
        ASSIGN_OR_RETURN(int number, txn.NextNumber("CR"));
        ChangeRequest cr = MakeChangeRequest(number);
        RETURN_IF_ERROR(txn.PutChangeRequest(cr));
        return txn
            .AppendAudit(AuditRecord{cr.created_at, cr.requester, "cr.create", cr.id,
                                     R"({"state":"draft"})"})
            .status();
      });
      if (!status.ok()) {
        state.SkipWithError(status.ToString().c_str());
        return;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kCreatedCrs);
  state.counters["CRs/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCreatedCrs, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CreateChangeRequests)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace rollgate

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(rollgate::BenchRoot(), ignored);
  return 0;
}
