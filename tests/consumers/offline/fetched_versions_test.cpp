// Part of the offline FetchContent consumer (tests/consumers/offline.cmake): the
// Asio and PortAudio this program was built with are the ones coaudio's fallback
// fetched, not the ones installed on the machine.
#include <asio/version.hpp>
#include <portaudio.h>

#include "support/catch.hpp"

#include <string>

// EXPECTED_*: the releases coaudioFetchDependencies.cmake pins (1.38.2, 19.7.0).
static_assert(ASIO_VERSION == EXPECTED_ASIO_VERSION,
              "not the fetched Asio: an installed Asio came first");

TEST_CASE("Built on the Asio and PortAudio that coaudio's fallback pins, with ALSA and JACK")
{
    INFO(Pa_GetVersionInfo()->versionText);
    CHECK(std::string(Pa_GetVersionInfo()->versionText).find(EXPECTED_PORTAUDIO_VERSION) !=
          std::string::npos);
    REQUIRE(Pa_Initialize() == paNoError);
    CHECK(Pa_HostApiTypeIdToHostApiIndex(paALSA) >= 0);
    CHECK(Pa_HostApiTypeIdToHostApiIndex(paJACK) >= 0);
    Pa_Terminate();
}
