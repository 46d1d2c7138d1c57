// A host's latency figure is taken only when it can be one.
#include <coaudio/detail/stream_core.hpp>

#include "support/catch.hpp"

#include <cmath>
#include <limits>

TEST_CASE("an impossible host latency gives way to the one asked for")
{
    using coaudio::detail::plausible_latency;
    CHECK(plausible_latency(0.0053, 0.02) == 0.0053);
    CHECK(plausible_latency(0.0, 0.02) == 0.0); // "none reported" stays 0
    // pipewire-jack through PortAudio's JACK host: 2^32 frames at 48 kHz.
    CHECK(plausible_latency(4294967296.0 / 48000.0, 0.02) == 0.02);
    CHECK(plausible_latency(std::numeric_limits<double>::quiet_NaN(), 0.02) == 0.02);
    CHECK(plausible_latency(std::numeric_limits<double>::infinity(), 0.02) == 0.02);
    CHECK(plausible_latency(-1.0, 0.02) == 0.02);
}
