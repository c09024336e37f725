// Status and Result<T>: the one error type of Rollgate (STYLE.md 5).
//
// A Status is either OK or carries a code the caller branches on and a message with context.
// Result<T> holds a T or a non-OK Status; its accessors mirror std::expected so it can become one.
// Both are cheap to move and safe to copy; neither is thread-safe to mutate concurrently.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rollgate {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input: configuration, flags, vectors, files
  kNotFound,          // the named object does not exist
  kConflict,          // illegal state transition, concurrent modification, duplicate
  kPermissionDenied,  // the acting person may not do this (role, separation of duties)
  kRefusedByGate,     // a gate, approval, lead time, window or freeze is not met
  kUnavailable,       // a host, service or database cannot be reached right now
  kDeadlineExceeded,  // a timeout
  kCorruption,        // stored data failed an integrity check (audit chain, schema)
  kFailed,            // an operation ran and failed (deployment, verification)
  kInternal,          // a bug or an unexpected error from a library or the OS
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed by "context: ".
  Status WithContext(std::string_view context) const;
  // "CODE: message", for logs and tests.
  std::string ToString() const;

  bool operator==(const Status&) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status RefusedByGate(std::string m) { return {StatusCode::kRefusedByGate, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status Failed(std::string m) { return {StatusCode::kFailed, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(data_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }

  // The error; OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }
  const Status& error() const { return std::get<Status>(data_); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace rollgate

#define RG_CONCAT_INNER(a, b) a##b
#define RG_CONCAT(a, b) RG_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::rollgate::Status rg_status_ = (expr);  \
    if (!rg_status_.ok()) return rg_status_; \
  } while (false)

// Evaluates `expr` (a Result<T>); on error returns its Status, else binds the value to `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(RG_CONCAT(rg_result_, __LINE__), lhs, expr)
// `lhs` may be a declaration ("auto x") and `tmp` is a name, so neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.error();          \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
