#pragma once

/// The one failure convention of studiograph, for every step that can fail off the realtime
/// thread (preparing a kernel, building a video element, checking a value, opening a device,
/// reading a file): the function returns `expected<T>`, either its value or one message written
/// for the person who must fix the cause. `expected<void>` carries no value.
///
///   expected<void> prepare(...) {
///     if (path.empty()) return unexpected("no file given (parameter 'file')");
///     return {};
///   }
///   if (auto done = k.prepare(...); !done) report(done.error());
///
/// No exceptions, no `std::string&` out-parameters, no "empty string means success". The names
/// and members are those of C++23's `std::expected<T, std::string>`, which this becomes once the
/// compilers we build with all ship it.

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sg {

/// The failure side of an `expected`: what went wrong, in words.
class unexpected {
public:
  explicit unexpected(std::string message) : message_(std::move(message)) {}
  const std::string& error() const& noexcept { return message_; }
  std::string&& error() && noexcept { return std::move(message_); }

private:
  std::string message_;
};

template <class T>
class [[nodiscard]] expected {
public:
  expected()
    requires std::is_default_constructible_v<T>
  = default;
  expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  expected(unexpected failure) : v_(std::in_place_index<1>, std::move(failure).error()) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; only when `has_value()`.
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The message; only when `!has_value()`.
  const std::string& error() const& { return std::get<1>(v_); }

private:
  std::variant<T, std::string> v_;
};

template <>
class [[nodiscard]] expected<void> {
public:
  expected() = default;
  expected(unexpected failure) : error_(std::move(failure).error()) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  /// The message; only when `!has_value()`.
  const std::string& error() const& { return *error_; }

private:
  std::optional<std::string> error_;
};

} // namespace sg
