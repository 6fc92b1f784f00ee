// Status and Result<T>: errors as values. Engine, model, backend and loader code
// return these instead of throwing; library exceptions are caught at the edges.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/check.h"

namespace minke {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the caller passed something malformed (config, CLI flag, request)
  kNotFound,         // a file, tensor or key that should exist does not
  kIoError,          // the OS refused (open, mmap, read)
  kCorrupt,          // a file exists but its contents break the format
  kUnsupported,      // well-formed but not something minke implements
  kOutOfRange,       // a bound was exceeded (context length, capacity)
  kInternal,         // a bug or an unexpected library failure
  kUnavailable,      // the service cannot take this now (engine failed, queue full)
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "context: message", for errors that travel up through layers (file name, tensor name).
  Status with_context(std::string_view context) const;
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

#define MINKE_STATUS_FACTORY_(name, code)                                          \
  template <class... Args>                                                         \
  Status name(fmt::format_string<Args...> format, Args&&... args) {                \
    return Status(StatusCode::code, fmt::format(format, std::forward<Args>(args)...)); \
  }
MINKE_STATUS_FACTORY_(invalid_argument, kInvalidArgument)
MINKE_STATUS_FACTORY_(not_found, kNotFound)
MINKE_STATUS_FACTORY_(io_error, kIoError)
MINKE_STATUS_FACTORY_(corrupt, kCorrupt)
MINKE_STATUS_FACTORY_(unsupported, kUnsupported)
MINKE_STATUS_FACTORY_(out_of_range, kOutOfRange)
MINKE_STATUS_FACTORY_(internal_error, kInternal)
MINKE_STATUS_FACTORY_(unavailable, kUnavailable)
#undef MINKE_STATUS_FACTORY_

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    MINKE_CHECK(!std::get<Status>(v_).is_ok(), "Result built from an OK status");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  const Status& status() const& {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(v_);
  }
  Status status() && { return is_ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
  T& operator*() { return checked(); }
  const T& operator*() const { return const_cast<Result*>(this)->checked(); }

 private:
  T& checked() {
    MINKE_CHECK(is_ok(), "value() of an error Result: {}", std::get<Status>(v_).to_string());
    return std::get<T>(v_);
  }
  std::variant<T, Status> v_;
};

}  // namespace minke

#define MINKE_CONCAT_IMPL_(a, b) a##b
#define MINKE_CONCAT_(a, b) MINKE_CONCAT_IMPL_(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is an error.
#define MINKE_TRY(expr)                                   \
  do {                                                    \
    ::minke::Status minke_try_status_ = (expr);           \
    if (!minke_try_status_.is_ok()) return minke_try_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or return its Status from the enclosing function.
#define MINKE_ASSIGN_OR_RETURN(lhs, expr) \
  MINKE_ASSIGN_OR_RETURN_IMPL_(MINKE_CONCAT_(minke_result_, __LINE__), lhs, expr)
#define MINKE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()
