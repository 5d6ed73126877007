// Task<T>: the DynamoDB front door's asynchronous call -- a C++20 coroutine that produces a T.
// Every call that reaches the store (DynamoBackend, TableStore, the operation handlers) is
// a Task, so one request's code runs unchanged over two drivers:
//   - the server's HTTP worker answers every backend call before returning from it (it
//     blocks on runtime::Coordinator), so a request's coroutines run start to end inside
//     RunInline on the worker's thread;
//   - the simulator answers a backend call later, from its event loop: the request's
//     coroutine is suspended at the call and resumed by the answer (sim/dynamo_backend.h),
//     so sim/ runs TableStore and the handlers single-threaded, with no thread per client.
//
// Lazy: a Task does nothing until it is awaited (or handed to RunInline / Spawn); its
// arguments must outlive it, which `co_await f(args...)` in one expression guarantees
// (temporaries live to the end of the full expression, across the suspension). Never store
// a Task made from references to temporaries. Two g++ 12 bugs shape the callers: a
// co_await inside `?:` frees a temporary twice (use if/else), and so does a closure with
// by-value captures made in the co_await's own expression (name it first); a braced list
// as an argument of a co_await's call does not compile (name it first).
//
// A child that completes without suspending hands control straight back to its parent
// (await_suspend answers false): a loop of inline completions -- every call on the
// server, a DeleteTable of 10,000 keys -- never grows the stack. A child resumed later by
// an event resumes its parent when it ends. Exceptions (nlohmann's on a malformed
// request; the simulator's asserts) travel to the awaiting parent as from a function.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "core/util/assert.h"

namespace ekv::dynamo {

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> continuation;
    // True while the parent's await_suspend runs this child: ending then returns to it.
    bool running_inline = false;

    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        promise_type& promise = self.promise();
        if (promise.running_inline || !promise.continuation) return std::noop_coroutine();
        return promise.continuation;
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    // As a `return` statement converts: braced lists, Status into StatusOr.
    void return_value(T&& v) { value.emplace(std::move(v)); }
    void return_value(const T& v) { value.emplace(v); }
    void unhandled_exception() { error = std::current_exception(); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  // Awaiting: runs the child now; the parent suspends only if the child did.
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> parent) {
    EKV_ASSERT(handle_ && !handle_.done(), "a dynamo Task awaited twice");
    promise_type& promise = handle_.promise();
    promise.continuation = parent;
    promise.running_inline = true;
    handle_.resume();
    if (handle_.done()) return false;
    promise.running_inline = false;
    return true;
  }
  T await_resume() { return TakeResult(); }

  // For drivers: starts the task with no parent; true when it ended without suspending.
  // A driver resumes nothing itself: the backend's answers resume the suspended call, and
  // the driver looks at done() after each.
  bool StartInline() {
    handle_.promise().running_inline = true;
    handle_.resume();
    if (handle_.done()) return true;
    handle_.promise().running_inline = false;
    return false;
  }
  bool done() const { return handle_ && handle_.done(); }
  // The value of an ended task (its exception rethrown).
  T TakeResult() {
    EKV_ASSERT(done(), "a dynamo Task's result taken before it ended");
    promise_type& promise = handle_.promise();
    if (promise.error) std::rethrow_exception(promise.error);
    EKV_ASSERT(promise.value.has_value(), "a dynamo Task ended without a value");
    return std::move(*promise.value);
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

// Runs `task` to its end on the calling thread and returns its value. For drivers whose
// every backend call answers before returning (the server's worker, which blocks on the
// coordinator; the tests' in-memory backend): a task that suspends is a driver bug.
template <typename T>
T RunInline(Task<T> task) {
  const bool ended = task.StartInline();
  EKV_ASSERT(ended, "a dynamo Task suspended under a driver that answers inline");
  return task.TakeResult();
}

}  // namespace ekv::dynamo
