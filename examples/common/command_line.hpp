// Shared by the examples: one option parser, so that every program takes its
// options the same way and answers a mistake with the same words.
// Distributed under the Boost Software License, Version 1.0.
//
//   examples::command_line cli("tone", usage_text);
//   cli.number("--freq", opt.freq, {.min = 0, .exclusive_min = true});
//   cli.whole("--channels", opt.channels, 1, 256);
//   cli.text("--device", opt.device);
//   cli.parse(argc, argv);
//
// `--name VALUE` and `--name=VALUE` both work; `--help` (or -h) prints the
// usage and exits 0; `--verbose` is taken by every program (see verbose()).
// A mistake prints one line and exits 64:
//
//   tone: unknown option '--bogus' (try 'tone --help')
//   tone: --rate needs a value (try 'tone --help')
//   tone: --rate: 'abc' is not a number (try 'tone --help')
//   tone: --freq must be below 24000 Hz at 48000 Hz (try 'tone --help')
#ifndef COAUDIO_EXAMPLES_COMMON_COMMAND_LINE_HPP
#define COAUDIO_EXAMPLES_COMMON_COMMAND_LINE_HPP

#include "stdio.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

// What a number may be, beyond finite.
struct limits {
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    bool exclusive_min = false;
};

class command_line {
public:
    // Also makes standard descriptors and pipes safe (prepare_stdio): the
    // first thing each program does is to build its command line.
    command_line(std::string program, std::string usage)
        : program_(std::move(program)), usage_(std::move(usage))
    {
        prepare_stdio();
        flag("--verbose", verbose_);
    }

    const std::string& program() const noexcept { return program_; }

    // With --verbose, ALSA and JACK may say what they find (see quiet_stderr).
    bool verbose() const noexcept { return verbose_; }

    void flag(std::string name, bool& out)
    {
        options_.push_back({std::move(name), false, [&out](const std::string&) {
                                out = true;
                                return std::string();
                            }});
    }

    // A value that must not be empty.
    void text(std::string name, std::optional<std::string>& out)
    {
        options_.push_back({name, true, [&out, name](const std::string& v) {
                                if (v.empty()) return name + " needs a value";
                                out = v;
                                return std::string();
                            }});
    }

    // A finite number within `l`.
    template <class Number>
    void number(std::string name, Number& out, limits l = {})
    {
        options_.push_back({name, true, [&out, name, l](const std::string& v) {
                                double d = 0;
                                if (auto e = read_number(name, v, l, d); !e.empty()) return e;
                                out = static_cast<Number>(d);
                                return std::string();
                            }});
    }

    // --stall-timeout S: how long a stream may go without audio before its
    // operations fail with errc::stalled (a frozen server, or ALSA's jack
    // plugin, which stops calling back when its server dies and says
    // nothing). 0 waits forever. Without it such a program would hang.
    void stall_timeout(std::chrono::milliseconds& out)
    {
        options_.push_back(
            {"--stall-timeout", true, [&out](const std::string& v) {
                 double d = 0;
                 if (auto e = read_number("--stall-timeout", v, {.min = 0, .max = 3600}, d);
                     !e.empty())
                     return e;
                 out = std::chrono::milliseconds(std::llround(d * 1000));
                 return std::string();
             }});
    }

    // A whole number from `lo` to `hi`.
    template <class Integer>
    void whole(std::string name, Integer& out, long long lo, long long hi)
    {
        options_.push_back({name, true, [&out, name, lo, hi](const std::string& v) {
                                double d = 0;
                                if (!parse_number(v, d))
                                    return name + ": '" + v + "' is not a number";
                                if (d != std::floor(d))
                                    return name + ": '" + v + "' is not a whole number";
                                if (auto e = check(name, d, {double(lo), double(hi)}); !e.empty())
                                    return e;
                                out = static_cast<Integer>(d);
                                return std::string();
                            }});
    }

    // The one operand (a file name), called `what` in messages ("FILE").
    void operand(std::string what, std::optional<std::string>& out, bool required)
    {
        operand_name_ = std::move(what);
        operand_ = &out;
        operand_required_ = required;
    }

    // Reads argv; prints the usage and exits 0 on --help, exits 64 on a mistake.
    void parse(int argc, char** argv)
    {
        bool options_end = false;
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (!options_end && arg == "--") {
                options_end = true;
                continue;
            }
            if (options_end || arg.size() < 2 || arg[0] != '-') {
                if (operand_ == nullptr || *operand_)
                    usage_error("unexpected argument '" + arg + "'");
                *operand_ = arg;
                continue;
            }
            if (arg == "--help" || arg == "-h") {
                std::fputs(usage_.c_str(), stdout);
                std::fputs(common_usage, stdout);
                std::exit(finish(program_.c_str(), exit_ok));
            }
            const auto eq = arg.find('=');
            const std::string name = arg.substr(0, eq);
            const option* o = find(name);
            if (o == nullptr) usage_error("unknown option '" + name + "'");
            std::string value;
            if (!o->takes_value) {
                if (eq != std::string::npos) usage_error(name + " takes no value");
            } else if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
            } else {
                // A following option is not a value; a negative number is.
                if (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--"))
                    usage_error(name + " needs a value");
                value = argv[++i];
            }
            if (std::string e = o->set(value); !e.empty()) usage_error(e);
        }
        if (operand_ != nullptr && operand_required_ && !*operand_)
            usage_error("no " + operand_name_ + " given");
    }

    // One line on standard error, then exit 64. Also for what can only be
    // checked once the device is known (a frequency above its Nyquist limit).
    [[noreturn]] void usage_error(const std::string& what) const
    {
        std::fprintf(stderr, "%s: %s (try '%s --help')\n", program_.c_str(), what.c_str(),
                     program_.c_str());
        std::exit(exit_usage);
    }

    // A frequency `name` must be below half the sample rate.
    void check_below_nyquist(const std::string& name, double freq, double rate) const
    {
        if (freq >= rate / 2)
            usage_error(name + " must be below " + text_of(rate / 2) + " Hz at " + text_of(rate) +
                        " Hz");
    }

    // "--seconds must not be negative": what a value outside `l` breaks.
    static std::string check(const std::string& name, double d, limits l)
    {
        const bool low = l.exclusive_min ? !(d > l.min) : d < l.min;
        if (!low && d <= l.max) return {};
        if (std::isfinite(l.min) && std::isfinite(l.max))
            return name +
                   (l.exclusive_min ? " must be above " + text_of(l.min) + " and at most "
                                    : " must be from " + text_of(l.min) + " to ") +
                   text_of(l.max);
        if (std::isfinite(l.max)) return name + " must be at most " + text_of(l.max);
        if (l.min == 0 && !l.exclusive_min) return name + " must not be negative";
        return name + (l.exclusive_min ? " must be above " : " must be at least ") + text_of(l.min);
    }

    // A number as people write it: 48000, 0.5.
    static std::string text_of(double d)
    {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", d);
        return buf;
    }

private:
    struct option {
        std::string name;
        bool takes_value;
        std::function<std::string(const std::string&)> set; // an error message, or empty
    };

    static constexpr const char* common_usage =
        R"(  --verbose           let ALSA and JACK print what they find while PortAudio
                      probes the devices (kept quiet by default)
  --help              show this text

Exit status: 0 on success, also when stopped by Ctrl-C, SIGTERM or a reader
that has gone (`| head`); 1 when it fails while running; 2 when no device
can be opened with the settings asked for; 64 on a bad command line.
)";

    // Reads `v`, the value of option `name`, into `out`: the message of what
    // is wrong with it, or empty.
    static std::string read_number(const std::string& name, const std::string& v, limits l,
                                   double& out)
    {
        if (!parse_number(v, out)) return name + ": '" + v + "' is not a number";
        return check(name, out, l);
    }

    static bool parse_number(const std::string& s, double& out)
    {
        if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return false;
        char* end = nullptr;
        out = std::strtod(s.c_str(), &end);
        return end == s.c_str() + s.size() && std::isfinite(out);
    }

    const option* find(const std::string& name) const
    {
        for (const auto& o : options_)
            if (o.name == name) return &o;
        return nullptr;
    }

    std::string program_;
    std::string usage_;
    bool verbose_ = false;
    std::vector<option> options_;
    std::optional<std::string>* operand_ = nullptr;
    std::string operand_name_;
    bool operand_required_ = false;
};

} // namespace examples

#endif
