// The park/notify protocol between the audio thread and a parked io operation,
// checked over every interleaving of a model of it.
//
// A stress test can only hope to hit the one order in a billion that loses a
// wake-up; this test visits every order of a small instance. It models the
// steps of the real code, one atomic step each, under sequential consistency:
//
//   audio thread (block_copy.hpp, direction_bridge::notify)
//     push     frames into the ring (input; dropped when it is full), or take
//              them out (output): either way the io side's `ready` grows
//     ready    ring.readable_from_producer() / writable_from_consumer()
//     load     parked.fetch_add(0)                        (a read-modify-write)
//     cas      parked.compare_exchange_strong(want, 0)
//     ring     bell.ring(): the eventfd's count grows, and epoll gets an edge
//
//   io thread (transfer_op in transfer_op.hpp, stream_core::park/unpark)
//     start    the machine's resume(): done if `ready >= want`
//     park     parked.exchange(want)
//     recheck  ready(c) >= want ?
//     unpark   parked.exchange(0), then resume() again
//     arm      the doorbell wait, as Asio's epoll reactor starts it (below)
//     waiting  the reactor's epoll_wait returns the edge and completes the wait
//     drain    bell.drain() after an async_wait
//
// Two ways to wait on the doorbell are modelled, as Asio 1.22 to 1.38 do them
// (detail/impl/epoll_reactor.ipp, start_op and descriptor_state::perform_io):
//   - async_wait(wait_read): start_op re-arms the descriptor with
//     epoll_ctl(EPOLL_CTL_MOD), which queues an edge if it is readable now;
//     the wait completes on an edge only if the descriptor is still readable
//     (epoll polls it again before reporting); then the operation drains.
//   - async_read_some into a buffer: start_op first tries the read (the
//     descriptor's `try_speculative` flag, set by every edge and cleared by
//     nothing a descriptor read returns) and completes at once if it got a
//     count; otherwise it queues the read, which the reactor performs on the
//     next edge. The read is the drain.
// With one io thread, the reactor runs only between handlers: while the
// operation waits, or between operations (a program's other work), where an
// edge finds no queued operation and is dropped. With several io threads it
// may run at any time.
//
// Sequential consistency stands in for the C++ orders the code uses: every
// access to `parked` on either side is a read-modify-write (acq_rel), so the
// two sides' accesses are totally ordered in `parked`'s modification order,
// and whichever comes second sees the ring indices the first published. That
// is the one place where a weaker order could lose a wake-up.
//
// The property: no run ends with the operation waiting while the frames it
// waits for are there (a lost wake-up). Each model is also checked with a
// defect put in, and must then find one, so that the checker is seen to look.
#include "support/catch.hpp"

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

enum class wait_kind { async_wait, read_some };

struct model {
    wait_kind wait = wait_kind::read_some;
    bool eventfd = true; ///< one read takes every ring; false: a pipe read takes one
    bool several_io_threads = false;
    bool waker = false; ///< another thread calls wake() once (stall, close)
    int capacity = 4, block = 2, callbacks = 4, want = 3, reads = 2;
    // Defects, for the checker's own test.
    bool recheck = true;     ///< the io side looks at the ring again after it parks
    bool speculative = true; ///< read_some: Asio tries the read before it queues it
    bool rearm = true;       ///< async_wait: the re-arm re-checks readiness
};

enum audio_pc : std::uint8_t { a_push, a_ready, a_load, a_cas, a_ring, a_done };
enum io_pc : std::uint8_t {
    c_start,
    c_park,
    c_recheck,
    c_unpark,
    c_arm,
    c_waiting,
    c_drain,
    c_done
};
enum waker_pc : std::uint8_t { w_store, w_ring, w_done };

struct state {
    // shared
    std::uint8_t ready = 0;  ///< frames the io side could move now
    std::uint8_t parked = 0; ///< the parked operation's want, 0 for none
    std::uint8_t count = 0;  ///< the doorbell's unread rings
    bool edge = false;       ///< an edge in epoll's ready list
    bool try_speculative = true;
    bool queued = false; ///< a doorbell wait is queued in the reactor
    // audio thread
    std::uint8_t apc = a_push, calls = 0, seen_ready = 0, seen_want = 0;
    // io thread
    std::uint8_t cpc = c_start, done_reads = 0;
    bool in_op = false;
    // another thread's wake()
    std::uint8_t wpc = w_done;

    std::uint64_t key() const
    {
        std::uint64_t k = 0;
        for (std::uint64_t v :
             {std::uint64_t(ready), std::uint64_t(parked), std::uint64_t(count),
              std::uint64_t(edge), std::uint64_t(try_speculative), std::uint64_t(queued),
              std::uint64_t(apc), std::uint64_t(calls), std::uint64_t(seen_ready),
              std::uint64_t(seen_want), std::uint64_t(cpc), std::uint64_t(done_reads),
              std::uint64_t(in_op), std::uint64_t(wpc)})
            k = k * 16 + v; // every field stays below 16 in these instances
        return k;
    }
};

struct result {
    std::size_t states = 0;
    std::size_t end_states = 0;
    std::size_t lost_wakeups = 0;
    std::size_t completed = 0; ///< end states in which every read completed
    std::string trace;         ///< the steps to the first lost wake-up
};

class checker {
public:
    explicit checker(const model& m) : m_(m) {}

    result run()
    {
        state s;
        if (m_.waker) s.wpc = w_store;
        visit(s);
        return r_;
    }

private:
    struct step {
        state next;
        const char* what;
    };

    void add_ring(state& s) const
    {
        if (s.count < 3) ++s.count; // saturates: three unread rings act as many
        s.edge = true;
    }

    // The read of the doorbell: an eventfd's read takes every ring, a pipe's
    // (in the worst case) one.
    void read_bell(state& s) const { s.count = m_.eventfd ? 0 : std::uint8_t(s.count - 1); }

    void audio_steps(const state& s, std::vector<step>& out) const
    {
        state n = s;
        switch (s.apc) {
        case a_push: {
            if (s.calls == m_.callbacks) {
                n.apc = a_done;
                out.push_back({n, "audio: done"});
                return;
            }
            const int room = m_.capacity - s.ready;
            const int moved = room < m_.block ? room : m_.block;
            n.ready = std::uint8_t(s.ready + moved);
            ++n.calls;
            n.apc = moved > 0 ? a_ready : a_push; // notify only when frames moved
            out.push_back({n, "audio: push"});
            return;
        }
        case a_ready:
            n.seen_ready = s.ready;
            n.apc = a_load;
            out.push_back({n, "audio: ready"});
            return;
        case a_load:
            n.seen_want = s.parked;
            n.apc = (s.parked != 0 && s.seen_ready >= s.parked) ? a_cas : a_push;
            out.push_back({n, "audio: load parked"});
            return;
        case a_cas:
            if (s.parked == s.seen_want) {
                n.parked = 0;
                n.apc = a_ring;
            } else {
                n.apc = a_push;
            }
            out.push_back({n, "audio: cas parked"});
            return;
        case a_ring:
            add_ring(n);
            n.apc = a_push;
            out.push_back({n, "audio: ring"});
            return;
        default: return;
        }
    }

    void io_steps(const state& s, std::vector<step>& out) const
    {
        state n = s;
        const std::uint8_t want = std::uint8_t(m_.want);
        switch (s.cpc) {
        case c_start:
            if (!s.in_op && s.done_reads == m_.reads) {
                n.cpc = c_done;
                out.push_back({n, "io: done"});
                return;
            }
            n.in_op = true;
            if (s.ready >= want) { // the machine is done; finish() unparks
                n.ready = std::uint8_t(s.ready - want);
                ++n.done_reads;
                n.in_op = false;
                n.parked = 0;
                out.push_back({n, "io: read completes"});
            } else {
                n.cpc = c_park;
                out.push_back({n, "io: resume, not enough"});
            }
            return;
        case c_park:
            n.parked = want;
            n.cpc = m_.recheck ? c_recheck : c_arm;
            out.push_back({n, "io: park"});
            return;
        case c_recheck:
            n.cpc = s.ready >= want ? c_unpark : c_arm;
            out.push_back({n, "io: recheck"});
            return;
        case c_unpark:
            n.parked = 0;
            n.cpc = c_start;
            out.push_back({n, "io: unpark"});
            return;
        case c_arm:
            if (m_.wait == wait_kind::async_wait) {
                if (m_.rearm && s.count > 0) n.edge = true; // epoll_ctl(MOD) on a readable fd
                n.queued = true;
                n.cpc = c_waiting;
                out.push_back({n, "io: async_wait"});
            } else if (m_.speculative && s.try_speculative && s.count > 0) {
                read_bell(n);
                n.cpc = c_start;
                out.push_back({n, "io: read_some completes at once"});
            } else {
                n.queued = true;
                n.cpc = c_waiting;
                out.push_back({n, "io: read_some queued"});
            }
            return;
        case c_drain:
            n.count = 0; // drain() reads until empty
            n.cpc = c_start;
            out.push_back({n, "io: drain"});
            return;
        default: return;
        }
    }

    // epoll_wait returns an edge: on the io thread while the operation waits
    // or between operations, or, with several io threads, at any time.
    void reactor_steps(const state& s, std::vector<step>& out) const
    {
        if (!s.edge) return;
        const bool between_ops = !s.in_op && (s.cpc == c_start || s.cpc == c_done);
        if (!m_.several_io_threads && s.cpc != c_waiting && !between_ops) return;
        state n = s;
        n.edge = false;
        n.try_speculative = true;
        if (s.queued && s.count > 0) {
            if (m_.wait == wait_kind::read_some) {
                read_bell(n);
                n.cpc = c_start;
            } else {
                n.cpc = c_drain;
            }
            n.queued = false;
            out.push_back({n, "reactor: completes the wait"});
        } else {
            out.push_back(
                {n, s.queued ? "reactor: edge, nothing to read" : "reactor: edge, no wait"});
        }
    }

    void waker_steps(const state& s, std::vector<step>& out) const
    {
        state n = s;
        if (s.wpc == w_store) {
            n.parked = 0;
            n.wpc = w_ring;
            out.push_back({n, "waker: parked = 0"});
        } else if (s.wpc == w_ring) {
            add_ring(n);
            n.wpc = w_done;
            out.push_back({n, "waker: ring"});
        }
    }

    void visit(const state& s)
    {
        if (!seen_.insert(s.key()).second) return;
        ++r_.states;
        std::vector<step> next;
        audio_steps(s, next);
        io_steps(s, next);
        reactor_steps(s, next);
        waker_steps(s, next);
        if (next.empty()) {
            ++r_.end_states;
            if (s.cpc == c_waiting && s.ready >= m_.want) {
                if (r_.lost_wakeups++ == 0)
                    for (const char* w : path_)
                        r_.trace += std::string(w) + "\n";
            }
            if (s.cpc == c_done) ++r_.completed;
            return;
        }
        for (const step& st : next) {
            path_.push_back(st.what);
            visit(st.next);
            path_.pop_back();
        }
    }

    model m_;
    result r_;
    std::unordered_set<std::uint64_t> seen_;
    std::vector<const char*> path_;
};

// Checks every interleaving of `m`. A sound protocol loses no wake-up, and
// some of its runs complete every read (the model is not stuck by
// construction); a broken one must be caught.
void check(const model& m, bool broken = false)
{
    const result r = checker(m).run();
    INFO("states " << r.states << ", end states " << r.end_states << ", all reads done in "
                   << r.completed << ", lost wake-ups " << r.lost_wakeups << "; the first:\n"
                   << r.trace);
    CHECK(r.states > 100);
    if (broken) {
        CHECK(r.lost_wakeups > 0);
    } else {
        CHECK(r.lost_wakeups == 0);
        CHECK(r.completed > 0);
    }
}

std::vector<model> instances(wait_kind w)
{
    std::vector<model> all;
    for (bool eventfd : {true, false})
        for (bool several : {false, true})
            for (bool waker : {false, true})
                for (int block : {1, 2})
                    for (int want : {1, 2, 3, 4}) {
                        model m;
                        m.wait = w;
                        m.eventfd = eventfd;
                        m.several_io_threads = several;
                        m.waker = waker;
                        m.block = block;
                        m.want = want;
                        m.reads = 3;
                        // Enough callbacks for every read, if none is dropped.
                        m.callbacks = (want * m.reads + block - 1) / block;
                        all.push_back(m);
                    }
    return all;
}

} // namespace

TEST_CASE("park protocol: no interleaving loses a wake-up, whichever wait the io side uses",
          "[park][model]")
{
    for (wait_kind w : {wait_kind::async_wait, wait_kind::read_some}) {
        for (const model& m : instances(w)) {
            INFO("wait " << (w == wait_kind::async_wait ? "async_wait" : "read_some")
                         << (m.eventfd ? ", eventfd" : ", pipe")
                         << (m.several_io_threads ? ", several io threads" : ", one io thread")
                         << (m.waker ? ", with a wake()" : "") << ", want " << m.want);
            check(m);
        }
    }
}

TEST_CASE("park protocol: the checker finds the lost wake-up of a broken protocol", "[park][model]")
{
    struct defect {
        const char* what;
        model m;
    };
    model no_recheck_wait, no_recheck_read, no_speculative, no_rearm;
    no_recheck_wait.wait = wait_kind::async_wait;
    no_recheck_wait.recheck = no_recheck_read.recheck = false;
    no_speculative.speculative = false;
    no_rearm.wait = wait_kind::async_wait;
    no_rearm.rearm = false;
    no_speculative.several_io_threads = no_rearm.several_io_threads = true;
    for (const defect& d :
         {defect{"async_wait: the io side parks without looking at the ring again",
                 no_recheck_wait},
          defect{"read_some: the io side parks without looking at the ring again", no_recheck_read},
          defect{"a read wait that does not try the read first, several io threads",
                 no_speculative},
          defect{"an async_wait re-arm that does not re-check, several io threads", no_rearm}}) {
        INFO(d.what);
        check(d.m, true);
    }
}
