// coaudio: the thread that makes PortAudio's control calls, so that a host
// that hangs in one cannot hang the thread that asked.
// Distributed under the Boost Software License, Version 1.0.
#ifndef COAUDIO_DETAIL_CONTROL_THREAD_HPP
#define COAUDIO_DETAIL_CONTROL_THREAD_HPP

#include <coaudio/detail/namespace.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#if defined(_WIN32)
#  include <coaudio/detail/windows.hpp>
#  include <objbase.h>
#  if defined(_MSC_VER)
#    pragma comment(lib, "ole32.lib")
#  endif
#endif

namespace coaudio::inline COAUDIO_BACKEND_NAMESPACE::detail {

/// Runs the PortAudio calls of streams (open, start, stop, abort, close) one
/// at a time, in the order they were asked for, on a thread of its own.
///
/// Some hosts wait for their server inside those calls: PortAudio's JACK
/// host waits up to ten minutes for a frozen server's process thread to
/// acknowledge a stop, and Windows' MME and DirectSound wait for output
/// that a stalled device never plays. The thread that asks waits only as
/// long as it chooses; a call still under way then finishes here, holding
/// what it needs (the stream's core) until it returns.
///
/// The thread starts with the first call and lives until the process ends:
/// it is detached, and the queue is never destroyed, so that a call still
/// blocked in a host at exit touches nothing that static destruction has
/// freed.
class control_thread {
public:
    using call = std::function<int()>;
    using duration = std::chrono::steady_clock::duration;

private:
    struct job;

public:
    /// A queued call, to wait for.
    using ticket = std::shared_ptr<job>;

    /// Queues `fn` after every call queued before it. On the control thread
    /// itself (a core released there closing) it runs at once instead:
    /// waiting for the queue would wait for itself.
    static ticket submit(call fn, bool must_run)
    {
        auto j = std::make_shared<job>();
        j->must_run = must_run;
        if (on_this_thread()) {
            j->result = fn();
            j->step = job::done;
            return j;
        }
        j->fn = std::move(fn);
        instance().push(j);
        return j;
    }

    /// Waits at most `patience` for the call of `t`. Returns nothing when it
    /// has not finished by then: a call that has begun goes on in the
    /// background, one still queued is not made unless it `must_run`.
    static std::optional<int> wait(const ticket& t, duration patience)
    {
        std::unique_lock lock(t->m);
        if (!t->cv.wait_for(lock, patience, [&] { return t->step == job::done; })) {
            if (t->step == job::queued && !t->must_run) t->step = job::dropped;
            return std::nullopt;
        }
        return t->result;
    }

    /// `submit` and `wait`.
    static std::optional<int> run(call fn, duration patience, bool must_run)
    {
        return wait(submit(std::move(fn), must_run), patience);
    }

    /// Runs `fn()` on the control thread and returns its value, or nothing
    /// when it has not returned within `patience`. A call that returns after
    /// that hands its value to `late` there, to undo what it did; one that
    /// had not begun is not made.
    template <class T, class Fn, class Late>
    static std::optional<T> value_of(Fn fn, Late late, duration patience)
    {
        struct outcome {
            std::mutex m;
            bool abandoned = false;
            std::optional<T> value;
        };
        auto out = std::make_shared<outcome>();
        run(
            [out, fn, late] {
                T v = fn();
                std::unique_lock lock(out->m);
                if (!out->abandoned) {
                    out->value = std::move(v);
                    return 0;
                }
                lock.unlock();
                late(std::move(v));
                return 0;
            },
            patience, false);
        std::lock_guard lock(out->m);
        if (!out->value) out->abandoned = true;
        return std::move(out->value);
    }

    /// True on the control thread.
    static bool here() noexcept { return on_this_thread(); }

    /// Calls queued or under way, for tests.
    static std::size_t backlog()
    {
        control_thread& t = instance();
        std::lock_guard lock(t.m_);
        return t.queue_.size() + t.busy_;
    }

private:
    static bool& on_this_thread() noexcept
    {
        thread_local bool here = false;
        return here;
    }

    struct job {
        enum step_t { queued, running, done, dropped };
        call fn;
        bool must_run = false;
        std::mutex m;
        std::condition_variable cv;
        step_t step = queued;
        int result = 0;
    };

    static control_thread& instance()
    {
        static control_thread* t = new control_thread; // never destroyed: see the class comment
        return *t;
    }

    control_thread()
    {
        std::thread([this] { serve(); }).detach();
    }

    void push(std::shared_ptr<job> j)
    {
        {
            std::lock_guard lock(m_);
            queue_.push_back(std::move(j));
        }
        cv_.notify_one();
    }

    [[noreturn]] void serve()
    {
        on_this_thread() = true;
#if defined(_WIN32)
        // PortAudio's Windows hosts make COM calls, and COM works only on a
        // thread that joined it: join as PortAudio does on the thread that
        // initialises it (its WASAPI host fails with CO_E_NOTINITIALIZED
        // otherwise). Nothing is done with a failure: the calls report it.
        (void)::CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED);
#endif
        for (;;) {
            std::shared_ptr<job> j;
            {
                std::unique_lock lock(m_);
                cv_.wait(lock, [&] { return !queue_.empty(); });
                j = std::move(queue_.front());
                queue_.pop_front();
                busy_ = 1;
            }
            bool make = false;
            {
                std::lock_guard lock(j->m);
                make = j->step == job::queued;
                if (make) j->step = job::running;
            }
            int result = 0;
            if (make) result = j->fn();
            j->fn = nullptr; // what the call held (a stream's core) goes now, here
            {
                std::lock_guard lock(j->m);
                j->result = result;
                if (make) j->step = job::done;
            }
            j->cv.notify_all();
            std::lock_guard lock(m_);
            busy_ = 0;
        }
    }

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<job>> queue_;
    std::size_t busy_ = 0;
};

} // namespace coaudio::detail

#endif
