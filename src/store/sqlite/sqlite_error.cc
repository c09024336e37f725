#include "store/sqlite/sqlite_error.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace rollgate::sqlite {

Status SqliteStatus(int code, std::string_view context, sqlite3* db) {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) return Status::Ok();
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
  if ((extended & 0xff) != (code & 0xff)) extended = code;
  // sqlite3_errmsg describes the most recent failure on `db`; without a handle, the code's text.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  std::string origin = fmt::format("SQLite: {} (code {})", detail, extended);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(fmt::format(
          "{}: the store is busy: another rollgate process held it longer than the busy timeout "
          "({})",
          context, origin));
    case SQLITE_FULL:
      return Unavailable(fmt::format(
          "{}: disk full: the store cannot grow; nothing of this change was written ({})", context,
          origin));
    case SQLITE_IOERR:
      return Unavailable(fmt::format("{}: I/O error on the store's file ({})", context, origin));
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Unavailable(
          fmt::format("{}: the store's file cannot be opened or written ({})", context, origin));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(fmt::format(
          "{}: the store's file is damaged or is not a rollgate database ({})", context, origin));
    case SQLITE_CONSTRAINT:
      return Conflict(fmt::format("{}: {}", context, origin));
    default:
      return Internal(fmt::format("{}: {}", context, origin));
  }
}

}  // namespace rollgate::sqlite
