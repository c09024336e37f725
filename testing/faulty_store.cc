#include "testing/faulty_store.h"

namespace rollgate::testing {

Status FaultyStore::Write(const std::function<Status(Transaction&)>& body) {
  ++writes_;
  bool fail = fail_at_ != 0 && (writes_ == fail_at_ || (sticky_ && writes_ > fail_at_));
  if (!fail) return store_.Write(body);
  failed_ = true;
  Status status = store_.Write([&](Transaction& txn) -> Status {
    RETURN_IF_ERROR(body(txn));
    return Unavailable("injected I/O error: the store could not commit (disk full)");
  });
  return status;
}

}  // namespace rollgate::testing
