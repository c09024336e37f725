// FaultyStore: a Store wrapper that fails the Nth write transaction (STYLE.md 14, leveldb's
// ErrorEnv), for crash and I/O-error tests of the engine.
//
// The failing write runs its body against the real store and then returns Unavailable
// ("injected I/O error"), so the real store rolls it back: nothing of it is stored, exactly as when
// a commit fails on a full disk. Writes after the failing one fail too when `sticky` (a dead disk),
// else pass again. Reads always pass. Not thread-safe beyond the wrapped store; does not own it.
#pragma once

#include <cstdint>

#include "store/store.h"

namespace rollgate::testing {

class FaultyStore final : public Store {
 public:
  explicit FaultyStore(Store& store) : store_(store) {}

  // Fails the `nth` write from now (1 = the next one); 0 disables.
  void FailWrite(int64_t nth, bool sticky = true) {
    fail_at_ = nth == 0 ? 0 : writes_ + nth;
    sticky_ = sticky;
  }
  int64_t writes() const { return writes_; }
  bool failed() const { return failed_; }

  Status Write(const std::function<Status(Transaction&)>& body) override;
  Status Read(const std::function<Status(Transaction&)>& body) override {
    return store_.Read(body);
  }
  Result<AuditVerification> VerifyAudit() override { return store_.VerifyAudit(); }
  Status ForEachAuditEvent(const std::function<Status(const AuditEvent&)>& sink) override {
    return store_.ForEachAuditEvent(sink);
  }
  Result<std::vector<AuditEvent>> AuditEventsFor(const std::string& object) override {
    return store_.AuditEventsFor(object);
  }
  Status CheckIntegrity() override { return store_.CheckIntegrity(); }

 private:
  Store& store_;
  int64_t writes_ = 0;
  int64_t fail_at_ = 0;
  bool sticky_ = true;
  bool failed_ = false;
};

}  // namespace rollgate::testing
