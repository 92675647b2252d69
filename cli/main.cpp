// kiln: the command-line tool. Commands so far: run.
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "run.h"

namespace {

constexpr char kUsage[] =
    "usage: kiln COMMAND [OPTIONS]\n"
    "\n"
    "Runs Linux programs as tiny virtual machines.\n"
    "\n"
    "commands:\n"
    "  run       run a program in a new VM (kiln run --help)\n"
    "\n"
    "options:\n"
    "  -h, --help     show this help\n"
    "  --version      show kiln's version\n";

void say(int fd, const std::string& s) {
    (void)!write(fd, s.data(), s.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        say(STDERR_FILENO, kUsage);
        return kiln::cli::kStatusCannotRun;
    }
    std::string cmd = argv[1];
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        say(STDOUT_FILENO, kUsage);
        return 0;
    }
    if (cmd == "--version" || cmd == "version") {
        say(STDOUT_FILENO, std::string("kiln ") + KILN_VERSION + "\n");
        return 0;
    }
    if (cmd == "run")
        return kiln::cli::run_command(std::vector<std::string>(argv + 2, argv + argc));
    say(STDERR_FILENO, "kiln: unknown command '" + cmd + "'\n" + kUsage);
    return kiln::cli::kStatusCannotRun;
}
