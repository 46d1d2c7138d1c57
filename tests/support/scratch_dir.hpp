// Test support: a temporary directory of the test's own.
#ifndef COAUDIO_TESTS_SUPPORT_SCRATCH_DIR_HPP
#define COAUDIO_TESTS_SUPPORT_SCRATCH_DIR_HPP

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace test {

/// A new directory under the system's temporary directory, named
/// `<prefix>-<random>-<time>`, removed with everything in it.
struct scratch_dir {
    std::filesystem::path path;
    explicit scratch_dir(const std::string& prefix)
        : path(std::filesystem::temp_directory_path() /
               (prefix + "-" + std::to_string(std::random_device{}()) + "-" +
                std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
    {
        std::filesystem::create_directories(path);
    }
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

} // namespace test

#endif
