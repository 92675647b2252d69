#include "run_data.h"

#include "cpio_writer.h"

namespace kiln::cli {

std::vector<std::string> run_environment(const std::vector<std::string>& user_env) {
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
    };
    for (const std::string& kv : user_env) {
        std::string key = kv.substr(0, kv.find('=') + 1);
        bool replaced = false;
        for (std::string& e : env) {
            if (e.compare(0, key.size(), key) == 0) {
                e = kv;
                replaced = true;
                break;
            }
        }
        if (!replaced) env.push_back(kv);
    }
    return env;
}

std::string nul_list(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) {
        s += i;
        s += '\0';
    }
    return s;
}

bool write_run_data(int fd, const std::vector<std::string>& argv,
                    const std::vector<std::string>& env, std::string* error) {
    CpioWriter w(fd);
    bool ok = w.add_directory(".kiln", 0755, 0) &&
              w.add_file(".kiln/argv", 0444, 0, nul_list(argv)) &&
              w.add_file(".kiln/env", 0444, 0, nul_list(env)) && w.finish();
    if (!ok) *error = w.error();
    return ok;
}

}  // namespace kiln::cli
