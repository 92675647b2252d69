#include "deps.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "file.h"
#include "kiln/elf.h"
#include "ld_cache.h"

namespace kiln::cli {

namespace {

std::string to_string(kiln::Bytes b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// One loaded object: what its dynamic section says, and who loaded it.
struct Object {
    std::string path;
    std::string origin;  // directory for $ORIGIN
    int loader = -1;     // index of the object whose DT_NEEDED brought it in
    std::vector<std::string> needed;
    std::string soname;
    std::optional<std::string> rpath, runpath;
};

// Reads the dynamic section of an ELF at `path`. nullopt when it is not an
// x86-64 ELF (with *why set).
std::optional<Object> read_object(const std::string& path, std::string* interp, std::string* why) {
    MappedFile f;
    std::string err = f.open(path);
    if (!err.empty()) {
        *why = err;
        return std::nullopt;
    }
    auto elf = kiln::elf::ElfFile::parse(kiln::Bytes(f.data(), f.size()));
    if (!elf.ok()) {
        *why = "not an x86-64 ELF file";
        return std::nullopt;
    }
    Object o;
    o.path = path;
    if (interp != nullptr) {
        auto in = elf->interp();
        if (in.ok()) {
            *interp = to_string(*in);
        } else if (in.error() != kiln::Errno::kENOENT) {
            *why = "its PT_INTERP is malformed";
            return std::nullopt;
        }
    }
    auto dyn = kiln::elf::DynamicSection::parse(*elf);
    if (!dyn.ok()) {
        if (dyn.error() == kiln::Errno::kENOENT) return o;  // static
        *why = "its dynamic section is malformed";
        return std::nullopt;
    }
    for (size_t i = 0; i < dyn->count(); ++i) {
        kiln::elf::DynEntry e = dyn->entry(i);
        if (e.tag != kiln::elf::kDtNeeded && e.tag != kiln::elf::kDtRpath &&
            e.tag != kiln::elf::kDtRunpath && e.tag != kiln::elf::kDtSoname) {
            continue;
        }
        auto s = dyn->string(e.value);
        if (!s.ok()) {
            *why = "its dynamic section has a string outside the string table";
            return std::nullopt;
        }
        std::string v = to_string(*s);
        if (e.tag == kiln::elf::kDtNeeded) {
            o.needed.push_back(v);
        } else if (e.tag == kiln::elf::kDtSoname && o.soname.empty()) {
            o.soname = v;
        } else if (e.tag == kiln::elf::kDtRpath && !o.rpath) {
            o.rpath = v;
        } else if (e.tag == kiln::elf::kDtRunpath && !o.runpath) {
            o.runpath = v;
        }
    }
    return o;
}

// Expands $ORIGIN, ${ORIGIN}, $LIB and $PLATFORM in one search directory.
std::string expand_tokens(std::string_view dir, const std::string& origin) {
    std::string out;
    for (size_t i = 0; i < dir.size();) {
        if (dir[i] != '$') {
            out += dir[i++];
            continue;
        }
        std::string_view rest = dir.substr(i + 1);
        bool braced = !rest.empty() && rest[0] == '{';
        if (braced) rest.remove_prefix(1);
        std::string_view name;
        for (std::string_view n : {"ORIGIN", "LIB", "PLATFORM"}) {
            if (rest.substr(0, n.size()) == n &&
                (braced ? rest.size() > n.size() && rest[n.size()] == '}'
                        : rest.size() == n.size() ||
                              !(isalnum(rest[n.size()]) || rest[n.size()] == '_'))) {
                name = n;
                break;
            }
        }
        if (name.empty()) {
            out += dir[i++];
            continue;
        }
        if (name == "ORIGIN") out += origin;
        if (name == "LIB") out += "lib/x86_64-linux-gnu";
        if (name == "PLATFORM") out += "x86_64";
        i += 1 + name.size() + (braced ? 2 : 0);
    }
    return out;
}

std::vector<std::string> split_dirs(std::string_view list, const std::string& origin) {
    std::vector<std::string> dirs;
    size_t i = 0;
    while (i <= list.size()) {
        size_t j = list.find(':', i);
        if (j == std::string_view::npos) j = list.size();
        std::string_view d = list.substr(i, j - i);
        if (!d.empty()) dirs.push_back(expand_tokens(d, origin));
        i = j + 1;
    }
    return dirs;
}

bool is_shared_object(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    MappedFile f;
    if (!f.open(path).empty()) return false;
    return kiln::elf::ElfFile::parse(kiln::Bytes(f.data(), f.size())).ok();
}

// musl's loader answers for these itself (ldso/dynlink.c, "reserved").
bool musl_builtin(std::string_view name) {
    for (std::string_view stem : {"c", "pthread", "rt", "m", "dl", "util", "xnet"}) {
        std::string prefix = "lib" + std::string(stem) + ".";
        if (name.substr(0, prefix.size()) == prefix) return true;
    }
    return false;
}

class Resolver {
public:
    Resolver(const SearchRules& rules, Dependencies* out) : rules_(rules), out_(out) {}

    bool run(const std::string& program, std::string* error) {
        std::string why;
        std::string interp;
        auto prog = read_object(program, &interp, &why);
        if (!prog) {
            *error = program + ": " + why;
            return false;
        }
        char real[PATH_MAX];
        prog->origin = dir_name(realpath(program.c_str(), real) ? real : program.c_str());
        objects_.push_back(std::move(*prog));
        if (interp.empty()) return true;  // static: nothing else to load

        out_->interp = interp;
        size_t slash = interp.rfind('/');
        std::string interp_base = interp.substr(slash == std::string::npos ? 0 : slash + 1);
        out_->musl = interp_base.rfind("ld-musl-", 0) == 0;
        auto ld = read_object(interp, nullptr, &why);
        if (!ld) {
            *error = program + ": its interpreter " + interp + ": " + why;
            return false;
        }
        if (out_->musl) {
            std::string paths;
            if (read_whole_file(rules_.musl_path_file, &paths)) {
                out_->config.push_back(rules_.musl_path_file);
                for (char& c : paths) {
                    if (c == '\n') c = ':';
                }
                system_dirs_ = split_dirs(paths, "");
            } else {
                system_dirs_ = rules_.musl_default_dirs;
            }
        } else {
            cache_ = LdCache::load(rules_.ld_cache);
            struct stat st;
            if (stat(rules_.ld_cache.c_str(), &st) == 0) out_->config.push_back(rules_.ld_cache);
            system_dirs_ = rules_.glibc_default_dirs;
        }
        // The interpreter is loaded first; its names are taken.
        loaded_[interp_base] = true;
        if (!ld->soname.empty()) loaded_[ld->soname] = true;
        loaded_[interp] = true;

        for (size_t i = 0; i < objects_.size(); ++i) {
            std::vector<std::string> needed = objects_[i].needed;
            for (const std::string& name : needed) load(name, int(i));
        }
        for (size_t i = 1; i < objects_.size(); ++i) out_->libraries.push_back(objects_[i].path);
        return true;
    }

private:
    void load(const std::string& name, int needer) {
        if (loaded_.count(name)) return;
        if (out_->musl && musl_builtin(name)) return;
        std::string path = search(name, needer);
        loaded_[name] = true;
        if (path.empty()) {
            out_->missing.push_back(name + " (needed by " + objects_[needer].path + ")");
            return;
        }
        if (loaded_paths_.count(path)) return;
        loaded_paths_[path] = true;
        std::string why;
        auto o = read_object(path, nullptr, &why);
        if (!o) return;  // search() checked it; it changed under us: leave it out
        o->loader = needer;
        o->origin = dir_name(path);
        if (!o->soname.empty()) loaded_[o->soname] = true;
        objects_.push_back(std::move(*o));
    }

    std::string try_dirs(const std::vector<std::string>& dirs, const std::string& name) {
        for (const std::string& d : dirs) {
            std::string p = join_path(d, name);
            if (is_shared_object(p)) return normalize_path(p);
        }
        return "";
    }

    std::string search(const std::string& name, int needer) {
        if (name.find('/') != std::string::npos) {
            std::string p = name;
            if (p[0] != '/') {
                char cwd[PATH_MAX];
                if (getcwd(cwd, sizeof(cwd)) == nullptr) return "";
                p = join_path(cwd, p);
            }
            return is_shared_object(p) ? normalize_path(p) : "";
        }
        const Object& o = objects_[needer];
        std::string found;
        if (out_->musl) {
            for (int j = needer; j >= 0 && found.empty(); j = objects_[j].loader) {
                const Object& l = objects_[j];
                const auto& list = l.runpath ? l.runpath : l.rpath;
                if (list) found = try_dirs(split_dirs(*list, l.origin), name);
            }
            if (found.empty()) found = try_dirs(system_dirs_, name);
            return found;
        }
        if (!o.runpath) {
            for (int j = needer; j >= 0 && found.empty(); j = objects_[j].loader) {
                const Object& l = objects_[j];
                if (l.rpath) found = try_dirs(split_dirs(*l.rpath, l.origin), name);
            }
        }
        if (found.empty() && o.runpath) found = try_dirs(split_dirs(*o.runpath, o.origin), name);
        if (found.empty()) {
            std::string c = cache_.lookup(name);
            if (!c.empty() && is_shared_object(c)) found = c;
        }
        if (found.empty()) found = try_dirs(system_dirs_, name);
        return found;
    }

    const SearchRules& rules_;
    Dependencies* out_;
    LdCache cache_;
    std::vector<std::string> system_dirs_;
    std::deque<Object> objects_;
    std::unordered_map<std::string, bool> loaded_;
    std::unordered_map<std::string, bool> loaded_paths_;
};

}  // namespace

std::string check_program(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return "not found";
    if (S_ISDIR(st.st_mode)) return "is a directory";
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (access(path.c_str(), X_OK) != 0) return "is not executable (no execute permission)";
    MappedFile f;
    std::string err = f.open(path);
    if (!err.empty()) return "cannot be read: " + err;
    if (f.size() < 4 || f.data()[0] != 0x7f || f.data()[1] != 'E' || f.data()[2] != 'L' ||
        f.data()[3] != 'F') {
        if (f.size() >= 2 && f.data()[0] == '#' && f.data()[1] == '!') {
            return "is a script, not an x86-64 ELF executable; run its interpreter instead";
        }
        return "is not an ELF executable";
    }
    if (!kiln::elf::ElfFile::parse(kiln::Bytes(f.data(), f.size())).ok()) {
        return "is not an x86-64 ELF executable (64-bit, little-endian, ET_EXEC or ET_DYN, "
               "well-formed)";
    }
    return "";
}

bool resolve_dependencies(const std::string& program, const SearchRules& rules, Dependencies* out,
                          std::string* error) {
    *out = Dependencies();
    Resolver r(rules, out);
    return r.run(program, error);
}

}  // namespace kiln::cli
