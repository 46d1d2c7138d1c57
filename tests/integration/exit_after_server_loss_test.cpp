// A program whose JACK server died exits normally. PortAudio's JACK host opens
// a JACK client of its own when PortAudio starts; if the server dies while that
// client is idle (no stream of the JACK host running, say a program on ALSA,
// PulseAudio or ALSA's jack plugin), Pa_Terminate fails to deactivate it and
// asserts, aborting the program at exit. Each case runs in a process of its
// own (the file is its own test program), since what it checks is the last
// release of PortAudio.
#include <coaudio/coaudio.hpp>

#include "support/catch.hpp"
#include "support/private_jack.hpp"

#include <portaudio.h>

TEST_CASE(
    "the last library reference is released after the JACK server died, and the program goes on")
{
    test::private_jack_server server("coaudio-exit-after-loss");
    {
        coaudio::library lib;
        // PortAudio's JACK host is there: it found the server when it started.
        REQUIRE(Pa_HostApiTypeIdToHostApiIndex(paJACK) >= 0);
        server.kill();
    } // Pa_Terminate would abort here
    SUCCEED("released without an abort");

    // PortAudio is usable again afterwards: its devices can be listed.
    coaudio::library again;
    CHECK_FALSE(coaudio::devices().empty());
}
