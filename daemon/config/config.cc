#include "config/config.h"

#include <errno.h>
#include <iniparser.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "lb/model.h"

namespace vsgate {
namespace {

// ---------------------------------------------------------------------------------------------
// Small text helpers (ASCII only, exactly like iniparser's own strstrip/strlwc).

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum_(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly `digits` hex digits.
std::optional<unsigned> parse_hex(std::string_view s, size_t digits) {
  if (s.size() != digits) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    int h = hex_value(c);
    if (h < 0) return std::nullopt;
    v = v * 16 + static_cast<unsigned>(h);
  }
  return v;
}

// "DDDD:BB:DD.F" or the short "BB:DD.F" (domain 0), as DPDK accepts them; returns the canonical
// lower-case long form, which is also the name DPDK gives the ethdev.
std::optional<std::string> canonical_pci(std::string_view s) {
  unsigned domain = 0;
  if (s.size() == 12) {
    auto d = parse_hex(s.substr(0, 4), 4);
    if (!d || s[4] != ':') return std::nullopt;
    domain = *d;
    s.remove_prefix(5);
  }
  if (s.size() != 7 || s[2] != ':' || s[5] != '.') return std::nullopt;
  auto bus = parse_hex(s.substr(0, 2), 2);
  auto dev = parse_hex(s.substr(3, 2), 2);
  if (!bus || !dev || *dev > 0x1f || s[6] < '0' || s[6] > '7') return std::nullopt;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%c", domain, *bus, *dev, s[6]);
  return std::string(buf);
}

// Splits devargs on commas that are not inside [...] lists (DPDK kvargs allow "k=[0,1]").
std::vector<std::string_view> split_devargs(std::string_view s) {
  std::vector<std::string_view> items;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ',' && depth == 0)) {
      items.push_back(s.substr(start, i - start));
      start = i + 1;
    } else if (s[i] == '[') {
      ++depth;
    } else if (s[i] == ']' && depth > 0) {
      --depth;
    }
  }
  return items;
}

bool valid_devargs(const std::vector<std::string_view>& items) {
  // items[0] is the device itself; the rest must be key or key=value.
  for (size_t i = 1; i < items.size(); ++i) {
    auto item = items[i];
    auto key = item.substr(0, item.find('='));
    if (key.empty()) return false;
    for (char c : key)
      if (!is_alnum_(c)) return false;
  }
  return true;
}

// Ethdev virtual device names: every ethdev PMD in DPDK registers as "net_*"; "eth_*" and
// "virtio_user" are its legacy aliases. Requiring the prefix catches the classic mistake of
// writing a Linux interface name ("eth0") instead of a vdev spec.
bool valid_vdev_name(std::string_view name) {
  bool prefixed = (name.starts_with("net_") && name.size() > 4) ||
                  (name.starts_with("eth_") && name.size() > 4) || name.starts_with("virtio_user");
  if (!prefixed) return false;
  for (char c : name)
    if (!is_alnum_(c)) return false;
  return true;
}

// Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
}  // namespace

bool valid_agentx_socket(std::string_view s) {
  if (s.starts_with("/")) return s.size() <= 107 && s.find('\0') == std::string_view::npos;
  if (!s.starts_with("tcp:")) return false;
  s.remove_prefix(4);
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
  for (char ch : host)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' ||
          ch == ':' || ch == '[' || ch == ']'))
      return false;
  if (port.empty() || port.size() > 5) return false;
  unsigned n = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<unsigned>(ch - '0');
  }
  return n >= 1 && n <= 65535;
}

namespace {

bool valid_ifname(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || is_space(c) || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool valid_port_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!is_alnum_(c) && c != '-' && c != '.') return false;
  return true;
}

std::string proto_word(Proto p) { return p == Proto::tcp ? "tcp" : "udp"; }

std::string endpoint(const IpAddr& ip, L4Port port) { return Endpoint{ip, port}.str(); }

// A real server's address in its key: "a.b.c.d", "a.b.c.d:PORT", "[IPV6]", "[IPV6]:PORT" or a
// bare IPv6 address (no port: its colons are its own). The port text is "" when none is given.
std::optional<std::pair<IpAddr, std::string_view>> split_real_address(std::string_view text) {
  auto hp = split_host_port(text);
  if (!hp) return std::nullopt;
  return std::make_pair(hp->addr, hp->port.value_or(std::string_view{}));
}

// A switch: yes/no, also true/false, on/off, 1/0 (lower-cased by the caller).
std::optional<bool> parse_yes_no(std::string_view s) {
  if (s == "yes" || s == "true" || s == "on" || s == "1") return true;
  if (s == "no" || s == "false" || s == "off" || s == "0") return false;
  return std::nullopt;
}

// Strict decimal: "abc", "1.5", "+1", "0x10" and "" are not numbers; "-1" is out of range.
// Returns the value, or nullopt with `why` set to what the message says after the value.
std::optional<uint64_t> check_uint(std::string_view text, uint64_t lo, uint64_t hi,
                                   bool power_of_two, std::string& why) {
  std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  std::string_view digits = text;
  bool negative = digits.starts_with('-');
  if (negative) digits.remove_prefix(1);
  bool all_digits = !digits.empty();
  for (char c : digits) all_digits = all_digits && is_digit(c);
  if (!all_digits) {
    why = "is not a whole number (expected " + range + ")";
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : digits) {
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > hi) break;  // keeps v from overflowing on absurdly long inputs
  }
  if (negative || v < lo || v > hi) {
    why = "is out of range (" + range + ")";
    return std::nullopt;
  }
  if (power_of_two && (v & (v - 1)) != 0) {
    why = "is not a power of two (expected " + range + ")";
    return std::nullopt;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Pre-scan of the raw text. iniparser merges repeated sections and keys silently, lower-cases
// section names and drops line numbers; this pass recovers what it loses.

struct RawSection {
  std::string name;   // as written, trimmed ("port.DPDK0")
  std::string lower;  // as iniparser stores it ("port.dpdk0")
  int line = 0;
  bool duplicate = false;  // a later header of an already seen section
};

struct RawKey {
  std::string section;  // lower-case, as iniparser stores it
  std::string key;      // lower-case
  int line = 0;
};

struct Prescan {
  std::vector<RawSection> sections;
  std::vector<RawKey> keys;
};

// Mirrors iniparser_load(): a line whose stripped text ends in '\' continues on the next line; a
// stripped line starting with ';' or '#' is a comment; "[...]" is a header.
Prescan prescan(const std::string& text) {
  Prescan out;
  std::string current;  // lower-case section; "" before the first header
  std::string logical;
  int line_no = 0, logical_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (logical.empty()) logical_start = line_no;
    while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
    if (!raw.empty() && raw.back() == '\\') {
      raw.remove_suffix(1);
      logical.append(raw);
      continue;
    }
    logical.append(raw);
    std::string_view line = trim(logical);
    if (line.empty() || line[0] == ';' || line[0] == '#') {
      // comment or empty
    } else if (line.front() == '[' && line.back() == ']') {
      auto name = trim(line.substr(1, line.find(']') - 1));
      RawSection s{std::string(name), lower(name), logical_start, false};
      for (const auto& prev : out.sections)
        if (prev.lower == s.lower) s.duplicate = true;
      current = s.lower;
      out.sections.push_back(std::move(s));
    } else if (auto eq = line.find('='); eq != std::string_view::npos) {
      out.keys.push_back(RawKey{current, lower(trim(line.substr(0, eq))), logical_start});
    }
    logical.clear();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// iniparser reports syntax errors through a process-global printf-like callback. load_config()
// holds this mutex while the capture target is set; outside a load the library default
// (stderr) is restored.

std::mutex g_ini_mutex;
std::vector<std::string>* g_ini_messages = nullptr;  // guarded by g_ini_mutex

__attribute__((format(printf, 1, 2))) int capture_ini_error(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  try {
    if (g_ini_messages) g_ini_messages->emplace_back(buf);
  } catch (...) {
    // Out of memory inside a C callback: dropping the message is the only safe option.
  }
  return n;
}

// ---------------------------------------------------------------------------------------------

constexpr const char* kGlobalKeys[] = {"log_level",     "control_socket", "workers",
                                       "idle_sleep_us", "punt_ring_size", "arp_resync_ms",
                                       "connections",   "debug_commands"};
constexpr const char* kEalKeys[] = {"args"};
constexpr const char* kSnmpKeys[] = {"agentx_socket", "control_socket", "cache_seconds",
                                     "log_level"};
constexpr const char* kPortKeys[] = {"device",         "rx_queues", "tx_queues", "rx_descriptors",
                                     "tx_descriptors", "mtu",       "kni",       "kni_backend",
                                     "addresses"};
// Plus one "real_server ADDR[:PORT]" key per real server.
constexpr const char* kServiceKeys[] = {"protocol",
                                        "vip",
                                        "port",
                                        "scheduler",
                                        "persistence",
                                        "local_addresses",
                                        "real_server ADDR[:PORT]"};
constexpr std::string_view kRealServerKey = "real_server";

template <size_t N>
std::string join(const char* const (&names)[N]) {
  std::string out;
  for (const char* n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Keys of one section as iniparser parsed them, in file order.
using Entries = std::vector<std::pair<std::string, std::string>>;

class Loader {
 public:
  explicit Loader(ConfigLoadResult& result) : r_(result), path_(result.config.path) {}

  // Errors come out sorted by line, so --check reads like the file.
  void run() {
    load();
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& e : errors_) r_.errors.push_back(std::move(e.second));
    std::stable_sort(warnings_.begin(), warnings_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& w : warnings_) r_.warnings.push_back(std::move(w.second));
  }

 private:
  void load() {
    std::string text;
    if (!read_file(text)) return;
    Prescan scan = prescan(text);
    for (const auto& s : scan.sections) section_lines_.emplace("[" + s.lower + "]", s.line);
    for (const auto& k : scan.keys) key_lines_[k.section + "." + k.key] = k.line;
    check_headers(scan);

    std::unique_ptr<dictionary, void (*)(dictionary*)> dict(load_ini(), iniparser_freedict);
    if (!dict) return;                        // syntax errors are already in the list
    std::map<std::string, Entries> sections;  // lower-case section -> entries
    for (ssize_t i = 0; i < dict->size; ++i) {
      if (!dict->key[i] || !dict->val[i]) continue;  // free slot or section marker
      std::string_view full(dict->key[i]);
      // iniparser stores "section:key" and either may contain ':'; prefer the longest section
      // header actually written in the file.
      size_t colon = full.find(':');
      if (colon == std::string_view::npos) continue;
      for (const auto& s : scan.sections)
        if (s.lower.size() > colon && full.size() > s.lower.size() && full[s.lower.size()] == ':' &&
            full.starts_with(s.lower))
          colon = s.lower.size();
      std::string section(full.substr(0, colon));
      std::string key(full.substr(colon + 1));
      if (section.empty()) {
        error(key, dict->val[i],
              "is outside any section (put it under [global], [eal], [port.NAME] or "
              "[service.NAME])",
              line_of(key_lines_, "." + key));
        continue;
      }
      sections[section].emplace_back(std::move(key), dict->val[i]);
    }
    dict.reset();

    check_duplicate_keys(scan, sections);
    for (const auto& s : scan.sections) {
      if (s.duplicate) continue;
      const Entries& entries = sections[s.lower];
      if (s.lower == "global") {
        load_global(entries);
      } else if (s.lower == "eal") {
        load_eal(entries);
      } else if (s.lower == "snmp") {
        load_snmp(entries);
      } else if (s.lower.starts_with("port.")) {
        load_port(s, entries);
      } else if (s.lower.starts_with("service.")) {
        load_service(s, entries);
      } else if (!s.lower.empty()) {
        section_error(s.name,
                      "is not a known section (expected [global], [eal], [port.NAME], "
                      "[service.NAME] or [snmp])");
      }
    }
    check_ports();
    check_services();
  }

  // ---- reporting
  static int line_of(const std::map<std::string, int>& lines, const std::string& lower_key) {
    auto it = lines.find(lower_key);
    return it == lines.end() ? 0 : it->second;
  }
  // "FILE: section.key: 'VALUE' what"; the line defaults to where the key is set.
  void error(const std::string& where, std::string_view value, std::string_view what,
             int line = -1) {
    std::string m = path_ + ": " + where + ": '";
    m.append(value);
    m += "' ";
    m.append(what);
    if (line < 0) line = line_of(key_lines_, lower(where));
    errors_.emplace_back(line, std::move(m));
  }
  // Same format, for something valid but probably not meant.
  void warning(const std::string& where, std::string_view value, std::string_view what) {
    std::string m = path_ + ": " + where + ": '";
    m.append(value);
    m += "' ";
    m.append(what);
    warnings_.emplace_back(line_of(key_lines_, lower(where)), std::move(m));
  }
  // "FILE: [section]: what"; the line defaults to the section's first header.
  void section_error(const std::string& section, std::string_view what, int line = -1) {
    std::string m = path_ + ": [" + section + "]: ";
    m.append(what);
    if (line < 0) line = line_of(section_lines_, "[" + lower(section) + "]");
    errors_.emplace_back(line, std::move(m));
  }
  void file_error(std::string_view what, int line = 0) {
    std::string m = path_ + ": ";
    m.append(what);
    errors_.emplace_back(line, std::move(m));
  }

  // ---- reading
  bool read_file(std::string& text) {
    FILE* f = std::fopen(path_.c_str(), "r");
    if (!f) {
      file_error(std::string("cannot open: ") + std::strerror(errno));
      return false;
    }
    struct stat st {};
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::fclose(f);
      file_error("cannot read: is a directory");
      return false;
    }
    char buf[8192];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    bool failed = std::ferror(f);
    int err = errno;
    std::fclose(f);
    if (failed) {
      file_error(std::string("cannot read: ") + std::strerror(err));
      return false;
    }
    return true;
  }

  void check_headers(const Prescan& scan) {
    std::map<std::string, int> first_line;
    for (const auto& s : scan.sections) {
      if (s.name.empty()) {
        section_error(s.name, "has an empty section name (line " + std::to_string(s.line) + ")",
                      s.line);
      } else if (s.duplicate) {
        section_error(s.name,
                      "appears more than once (lines " + std::to_string(first_line[s.lower]) +
                          " and " + std::to_string(s.line) + "); sections must be unique",
                      s.line);
      }
      first_line.emplace(s.lower, s.line);
    }
  }

  dictionary* load_ini() {
    std::vector<std::string> messages;
    dictionary* dict = nullptr;
    {
      std::lock_guard lock(g_ini_mutex);
      g_ini_messages = &messages;
      iniparser_set_error_callback(capture_ini_error);
      dict = iniparser_load(path_.c_str());
      iniparser_set_error_callback(nullptr);  // back to the library default
      g_ini_messages = nullptr;
    }
    for (const auto& m : messages) {
      std::string text = rewrite_ini_message(m);
      int line = 0;
      if (text.starts_with("line ")) line = std::atoi(text.c_str() + 5);
      file_error(text, line);
    }
    if (!dict && messages.empty()) file_error("cannot be parsed as INI");
    return dict;
  }

  // Turns "iniparser: syntax error in FILE (7):\n-> TEXT\n" into "line 7: 'TEXT' ...".
  std::string rewrite_ini_message(std::string m) const {
    while (!m.empty() && is_space(m.back())) m.pop_back();
    if (m.starts_with("iniparser: ")) m.erase(0, 11);
    for (const char* kind : {"syntax error in ", "input line too long in "}) {
      std::string prefix = std::string(kind) + path_ + " (";
      if (!m.starts_with(prefix)) continue;
      size_t close = m.find(')', prefix.size());
      if (close == std::string::npos) break;
      std::string line = m.substr(prefix.size(), close - prefix.size());
      if (kind[0] == 'i') return "line " + line + ": is longer than 1022 characters";
      size_t arrow = m.find("-> ", close);
      std::string text = arrow == std::string::npos ? "" : m.substr(arrow + 3);
      if (text.starts_with("["))
        return "line " + line + ": '" + text +
               "' is not a valid section header (a header must be alone on its line)";
      return "line " + line + ": '" + text +
             "' is not a [section] header, a key = value line or a comment";
    }
    for (char& c : m)
      if (c == '\n') c = ' ';
    return m;
  }

  void check_duplicate_keys(const Prescan& scan, std::map<std::string, Entries>& sections) {
    std::set<std::string> dup_sections;
    for (const auto& s : scan.sections)
      if (s.duplicate) dup_sections.insert(s.lower);
    std::map<std::pair<std::string, std::string>, int> seen;
    for (const auto& k : scan.keys) {
      if (k.section.empty() || dup_sections.count(k.section)) continue;  // reported already
      auto [it, inserted] = seen.emplace(std::make_pair(k.section, k.key), k.line);
      if (inserted) continue;
      std::string value;
      for (const auto& [key, v] : sections[k.section])
        if (key == k.key) value = v;
      error(display_section(scan, k.section) + "." + k.key, value,
            "is set more than once (lines " + std::to_string(it->second) + " and " +
                std::to_string(k.line) + "); each key may appear once per section",
            k.line);
    }
  }

  static std::string display_section(const Prescan& scan, const std::string& lower_name) {
    for (const auto& s : scan.sections)
      if (s.lower == lower_name) return s.name;
    return lower_name;
  }

  // ---- values
  static const std::string* find(const Entries& entries, std::string_view key) {
    for (const auto& [k, v] : entries)
      if (k == key) return &v;
    return nullptr;
  }

  template <size_t N>
  void check_unknown(const std::string& section, const Entries& entries,
                     const char* const (&known)[N], bool real_server_keys = false) {
    for (const auto& [k, v] : entries) {
      bool ok = false;
      for (const char* n : known) ok = ok || k == n;
      // A bare "real_server" is reported by load_service() (no address).
      if (real_server_keys) ok = ok || k == kRealServerKey || is_real_server_key(k);
      if (!ok)
        error(section + "." + k, v, "is set on an unknown key (known keys: " + join(known) + ")");
    }
  }

  std::optional<unsigned> parse_uint(const std::string& where, const std::string& text, unsigned lo,
                                     unsigned hi, bool power_of_two = false) {
    std::string why;
    auto v = check_uint(text, lo, hi, power_of_two, why);
    if (!v) {
      error(where, text, why);
      return std::nullopt;
    }
    return static_cast<unsigned>(*v);
  }

  template <class T>
  void set_uint(const std::string& section, const Entries& entries, const char* key, T& out,
                unsigned lo, unsigned hi, bool power_of_two = false) {
    if (const std::string* v = find(entries, key))
      if (auto n = parse_uint(section + "." + key, *v, lo, hi, power_of_two))
        out = static_cast<T>(*n);
  }

  void load_global(const Entries& e) {
    GlobalConfig& g = r_.config.global;
    if (const std::string* v = find(e, "log_level")) {
      if (auto level = parse_log_level(lower(*v)))
        g.log_level = *level;
      else
        error("global.log_level", *v, "is not a log level (error, warning, info or debug)");
    }
    if (const std::string* v = find(e, "control_socket")) {
      if (v->empty() || (*v)[0] != '/')
        error("global.control_socket", *v, "is not an absolute path");
      else if (v->size() > 107)  // sizeof(sockaddr_un::sun_path) - 1
        error("global.control_socket", *v, "is too long for a Unix socket (at most 107 bytes)");
      else
        g.control_socket = *v;
    }
    set_uint("global", e, "workers", g.workers, 1, 64);
    set_uint("global", e, "idle_sleep_us", g.idle_sleep_us, 0, 100000);
    set_uint("global", e, "punt_ring_size", g.punt_ring_size, 64, 65536, true);
    set_uint("global", e, "arp_resync_ms", g.arp_resync_ms, 100, 60000);
    set_uint("global", e, "connections", g.connections, 1024, 1u << 28);
    if (const std::string* v = find(e, "debug_commands")) {
      if (auto b = parse_yes_no(lower(*v)))
        g.debug_commands = *b;
      else
        error("global.debug_commands", *v, "is not yes or no");
    }
    check_unknown("global", e, kGlobalKeys);
  }

  void load_eal(const Entries& e) {
    if (const std::string* v = find(e, "args")) {
      auto& args = r_.config.eal.args;
      std::string_view rest(*v);
      while (!(rest = trim(rest)).empty()) {
        size_t end = 0;
        while (end < rest.size() && !is_space(rest[end])) ++end;
        args.emplace_back(rest.substr(0, end));
        rest.remove_prefix(end);
      }
    }
    check_unknown("eal", e, kEalKeys);
  }

  void load_snmp(const Entries& e) {
    SnmpConfig& c = r_.config.snmp;
    if (const std::string* v = find(e, "agentx_socket")) {
      if (valid_agentx_socket(*v))
        c.agentx_socket = *v;
      else
        error("snmp.agentx_socket", *v,
              "is not an absolute Unix socket path or tcp:HOST:PORT (port 1..65535)");
    }
    if (const std::string* v = find(e, "control_socket")) {
      if (v->empty() || (*v)[0] != '/')
        error("snmp.control_socket", *v, "is not an absolute path");
      else if (v->size() > 107)
        error("snmp.control_socket", *v, "is too long for a Unix socket (at most 107 bytes)");
      else
        c.control_socket = *v;
    }
    set_uint("snmp", e, "cache_seconds", c.cache_seconds, 1, 3600);
    if (const std::string* v = find(e, "log_level")) {
      if (auto level = parse_log_level(lower(*v))) {
        c.log_level = *level;
        c.log_level_set = true;
      } else {
        error("snmp.log_level", *v, "is not a log level (error, warning, info or debug)");
      }
    }
    check_unknown("snmp", e, kSnmpKeys);
  }

  void load_port(const RawSection& s, const Entries& e) {
    PortConfig p;
    p.name = s.name.substr(5);  // after "port.", original case
    const std::string sec = s.name;
    if (p.name.empty()) {
      section_error(s.name, "has an empty port name (expected [port.NAME])");
    } else if (!valid_port_name(p.name)) {
      section_error(s.name, "has an invalid port name '" + p.name +
                                "' (1..32 letters, digits, '_', '-' or '.')");
    }

    const std::string* device = find(e, "device");
    if (!device) {
      section_error(s.name, "has no device (set device = a PCI address or a DPDK vdev spec)");
    } else if (auto dev = parse_device(*device)) {
      p.device = *dev;
    } else {
      error(sec + ".device", *device,
            "is not a PCI address (0000:03:00.0) or a DPDK vdev spec "
            "(net_DRIVERn[,key=value...], e.g. net_af_xdp0,iface=veth0)");
    }
    set_uint(sec, e, "rx_queues", p.rx_queues, 1, 64);
    set_uint(sec, e, "tx_queues", p.tx_queues, 1, 64);
    set_uint(sec, e, "rx_descriptors", p.rx_descriptors, 64, 16384, true);
    set_uint(sec, e, "tx_descriptors", p.tx_descriptors, 64, 16384, true);
    set_uint(sec, e, "mtu", p.mtu, 68, 9600);
    if (const std::string* v = find(e, "kni")) {
      if (v->empty() || valid_ifname(*v))
        p.kni = *v;
      else
        error(sec + ".kni", *v,
              "is not a valid interface name (1..15 characters, no '/', ':' or whitespace, "
              "not '.' or '..')");
    }
    if (const std::string* v = find(e, "kni_backend")) {
      std::string b = lower(*v);
      if (b == "tap")
        p.kni_backend = KniBackend::tap;
      else if (b == "virtio-user")
        p.kni_backend = KniBackend::virtio_user;
      else
        error(sec + ".kni_backend", *v, "is not a backend (tap or virtio-user)");
    }
    if (const std::string* v = find(e, "addresses")) {
      parse_addresses(sec + ".addresses", *v, p.addresses);
      const std::string* kni = find(e, "kni");
      if (!trim(*v).empty() && (!kni || kni->empty()))
        error(sec + ".addresses", *v,
              "requires " + sec + ".kni to be set (the addresses live there)");
    }
    check_unknown(sec, e, kPortKeys);
    r_.config.ports.push_back(std::move(p));
  }

  static std::optional<std::string> parse_device(const std::string& text) {
    if (text.empty()) return std::nullopt;
    for (char c : text)
      if (is_space(c)) return std::nullopt;
    auto items = split_devargs(text);
    if (!valid_devargs(items)) return std::nullopt;
    if (auto pci = canonical_pci(items[0])) return *pci + text.substr(items[0].size());
    if (valid_vdev_name(items[0])) return text;
    return std::nullopt;
  }

  void parse_addresses(const std::string& where, const std::string& text,
                       std::vector<Ipv4Prefix>& out) {
    std::string_view rest = trim(text);
    if (rest.empty()) return;
    std::set<uint32_t> seen;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      if (item.empty()) {
        error(where, text, "has an empty entry (expected comma-separated a.b.c.d/len)");
      } else if (auto p = Ipv4Prefix::parse(item); !p) {
        error(where, item, "is not an IPv4 prefix (expected a.b.c.d/len, len 0..32)");
      } else if (uint32_t h = p->addr.host(); h == 0 || h == 0xffffffff || (h >> 28) == 0xe) {
        error(where, item, "is not a unicast address usable on an interface");
      } else if (!seen.insert(h).second) {
        error(where, item, "is listed more than once");
      } else {
        out.push_back(*p);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  // ---- services

  // What the cross-service checks need beyond ServiceConfig; parallel to config.services.
  struct ServiceMeta {
    std::string section;                  // "service.NAME" as written
    bool key_ok = false;                  // protocol, vip and port all valid
    bool laddrs_ok = true;                // local_addresses had no error
    bool vip_parsed = false;              // vip is an address (maybe refused): key.vip holds it
    std::vector<std::string> laddr_text;  // per local address: the entry as written
    std::vector<std::string> real_where;  // per real server: "service.NAME.real_server ADDR"
    std::vector<std::string> real_addr;   // per real server: ADDR[:PORT] as written
    std::vector<std::string> real_value;  // per real server: its value as written
    std::vector<bool> real_fwd_given;     // per real server: a forwarding mode was written
  };

  // The service key the rules of one of its real servers or local addresses (`a`) are checked
  // against: without a vip (missing or not an address), one of `a`'s family, so that only the
  // address's own rules speak.
  static ServiceKey rules_key(const ServiceConfig& svc, bool vip_parsed, const IpAddr& a) {
    ServiceKey k = svc.key;
    if (!vip_parsed) k.vip.family = a.family;
    return k;
  }

  // "real_server" followed by whitespace (and, if valid, an address).
  static bool is_real_server_key(std::string_view k) {
    return k.starts_with(kRealServerKey) && k.size() > kRealServerKey.size() &&
           is_space(k[kRealServerKey.size()]);
  }

  void load_service(const RawSection& s, const Entries& e) {
    ServiceConfig svc;
    ServiceMeta meta;
    svc.name = s.name.substr(8);  // after "service.", original case
    const std::string sec = s.name;
    meta.section = sec;
    if (svc.name.empty()) {
      section_error(s.name, "has an empty service name (expected [service.NAME])");
    } else if (!valid_port_name(svc.name)) {
      section_error(s.name, "has an invalid service name '" + svc.name +
                                "' (1..32 letters, digits, '_', '-' or '.')");
    }

    // Identity: all three are required, as ipvsadm needs -t/-u ADDR:PORT.
    bool proto_ok = false, vip_ok = false, port_ok = false;
    std::vector<std::string> missing;
    if (const std::string* v = find(e, "protocol")) {
      std::string p = lower(*v);
      if (p == "tcp" || p == "udp") {
        svc.key.proto = p == "tcp" ? Proto::tcp : Proto::udp;
        proto_ok = true;
      } else {
        error(sec + ".protocol", *v, "is not a protocol (tcp or udp)");
      }
    } else {
      missing.emplace_back("protocol");
    }
    if (const std::string* v = find(e, "vip")) {
      if (auto a = IpAddr::parse(*v); !a) {
        error(sec + ".vip", *v, "is not an IPv4 address (expected a.b.c.d)");
      } else if (const char* no = service_address_refusal(*a)) {  // lb/model.h
        error(sec + ".vip", *v, no);
        svc.key.vip = *a;  // its real servers and local addresses are checked against its family
        meta.vip_parsed = true;
      } else {
        svc.key.vip = *a;
        vip_ok = meta.vip_parsed = true;
      }
    } else {
      missing.emplace_back("vip");
    }
    if (const std::string* v = find(e, "port")) {
      if (auto n = parse_uint(sec + ".port", *v, 1, 65535)) {
        svc.key.port = L4Port::from_host(static_cast<uint16_t>(*n));
        port_ok = true;
      }
    } else {
      missing.emplace_back("port");
    }
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size(); ++i)
        list += (i == 0 ? "" : i + 1 == missing.size() ? " or " : ", ") + missing[i];
      section_error(s.name, "has no " + list + " (a service needs protocol, vip and port)");
    }
    meta.key_ok = proto_ok && vip_ok && port_ok;

    if (const std::string* v = find(e, "scheduler")) {
      if (auto k = parse_scheduler(lower(*v)))
        svc.scheduler = *k;
      else
        error(sec + ".scheduler", *v, "is not a scheduler (rr, wrr, lc, wlc, sh or mh)");
    }
    set_uint(sec, e, "persistence", svc.persistence_s, 0, kMaxPersistenceS);

    if (const std::string* v = find(e, "local_addresses"))
      meta.laddrs_ok = parse_local_addresses(sec + ".local_addresses", *v, svc, meta);

    // Real servers in file order.
    std::vector<std::pair<int, const std::pair<std::string, std::string>*>> reals;
    for (const auto& kv : e)
      if (kv.first == kRealServerKey || is_real_server_key(kv.first))
        reals.emplace_back(line_of(key_lines_, lower(sec) + "." + kv.first), &kv);
    std::stable_sort(reals.begin(), reals.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::map<RealServerKey, std::string> seen;  // -> the first key's address text
    for (const auto& [line, kv] : reals) {
      const std::string where = sec + "." + kv->first;
      if (kv->first == kRealServerKey) {
        error(where, kv->second,
              "has no address in its key (write real_server ADDR[:PORT] = [fwd] [weight=N] "
              "[upper=N] [lower=N])");
        continue;
      }
      std::string addr(trim(std::string_view(kv->first).substr(kRealServerKey.size())));
      auto rs = parse_real_server(where, addr, kv->second, svc, port_ok, meta.vip_parsed);
      if (!rs) continue;
      const RealServerConfig& c = rs->config;
      if (auto [it, inserted] = seen.emplace(c.key, addr); !inserted) {
        error(where, addr,
              "is the same real server (" + endpoint(c.key.ip, c.key.port) + ") as real_server " +
                  it->second + " of " + sec + "; each may appear once per service");
        continue;
      }
      svc.real_servers.push_back(c);
      meta.real_where.push_back(where);
      meta.real_addr.push_back(addr);
      meta.real_value.push_back(kv->second);
      meta.real_fwd_given.push_back(rs->fwd_given);
    }

    check_unknown(sec, e, kServiceKeys, true);
    r_.config.services.push_back(std::move(svc));
    services_meta_.push_back(std::move(meta));
  }

  // "ADDR@PORT, ...". Port names are resolved in check_services(), once every port is known.
  bool parse_local_addresses(const std::string& where, const std::string& text, ServiceConfig& svc,
                             ServiceMeta& meta) {
    std::string_view rest = trim(text);
    if (rest.empty()) return true;
    bool ok = true;
    std::set<IpAddr> seen;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      size_t at = item.find('@');
      std::optional<IpAddr> ip;
      if (item.empty()) {
        error(where, text, "has an empty entry (expected comma-separated ADDR@PORT)");
        ok = false;
      } else if (at == std::string_view::npos || !valid_port_name(trim(item.substr(at + 1))) ||
                 !(ip = IpAddr::parse(trim(item.substr(0, at))))) {
        error(where, item,
              "is not ADDR@PORT (an IPv4 address and the name of a [port.NAME] section, e.g. "
              "10.0.1.1@dpdk1)");
        ok = false;
      } else if (auto no = check_laddr_spec(rules_key(svc, meta.vip_parsed, *ip),
                                            {*ip, std::string(trim(item.substr(at + 1)))});
                 !no.empty()) {
        error(where, item, no.front().what);  // the model's rules of one local address
        ok = false;
      } else if (!seen.insert(*ip).second) {
        error(where, item, "is listed more than once");
        ok = false;
      } else {
        svc.local_addresses.push_back({*ip, std::string(trim(item.substr(at + 1)))});
        meta.laddr_text.emplace_back(item);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return ok;
  }

  struct ParsedRealServer {
    RealServerConfig config;
    bool fwd_given = false;
  };

  // Key "real_server ADDR[:PORT]", value "[fullnat|nat|dr|tunnel] [weight=N] [upper=N]
  // [lower=N]" in any order, separated by whitespace (spaces around '=' are fine).
  std::optional<ParsedRealServer> parse_real_server(const std::string& where,
                                                    const std::string& addr,
                                                    const std::string& value,
                                                    const ServiceConfig& svc, bool port_ok,
                                                    bool vip_parsed) {
    ParsedRealServer out;
    RealServerConfig& rs = out.config;
    bool ok = true;
    const auto split = split_real_address(addr);
    std::optional<uint64_t> port;
    std::string why;
    if (split && !split->second.empty()) port = check_uint(split->second, 1, 65535, false, why);
    if (!split || (!split->second.empty() && !port)) {
      error(where, addr,
            "is not a real server address (expected real_server a.b.c.d or a.b.c.d:PORT, PORT "
            "1..65535)");
      ok = false;
    } else {
      rs.key.ip = split->first;
      rs.key.port = port ? L4Port::from_host(static_cast<uint16_t>(*port)) : svc.key.port;
      if (!port && !port_ok) ok = false;  // its port is the service's, which is invalid
    }

    // "weight = 3" is read as "weight=3".
    std::string options;
    for (size_t i = 0; i < value.size(); ++i) {
      if (is_space(value[i])) {
        size_t j = i;
        while (j < value.size() && is_space(value[j])) ++j;
        if ((j < value.size() && value[j] == '=') || (!options.empty() && options.back() == '=')) {
          i = j - 1;
          continue;
        }
      }
      options += value[i];
    }

    bool weight_given = false, upper_given = false, lower_given = false;
    std::string_view rest = options;
    while (!(rest = trim(rest)).empty()) {
      size_t end = 0;
      while (end < rest.size() && !is_space(rest[end])) ++end;
      const std::string token(rest.substr(0, end));
      rest.remove_prefix(end);
      const size_t eq = token.find('=');
      const std::string name = lower(token.substr(0, eq));
      if (eq == std::string::npos) {
        auto mode = parse_fwd_mode(name);
        if (!mode) {
          error(where, token,
                "is not a forwarding mode or option (fullnat, nat, dr, tunnel, weight=N, "
                "upper=N, lower=N)");
          ok = false;
        } else if (out.fwd_given) {
          error(where, token, "is a second forwarding mode (give one of fullnat, nat, dr, tunnel)");
          ok = false;
        } else {
          rs.fwd = *mode;
          out.fwd_given = true;
        }
        continue;
      }
      uint32_t* field = nullptr;
      bool* given = nullptr;
      uint64_t hi = 0;
      if (name == "weight") {
        field = &rs.weight, given = &weight_given, hi = 65535;
      } else if (name == "upper") {
        field = &rs.upper, given = &upper_given, hi = UINT32_MAX;
      } else if (name == "lower") {
        field = &rs.lower, given = &lower_given, hi = UINT32_MAX;
      } else {
        error(where, token,
              "is not a forwarding mode or option (fullnat, nat, dr, tunnel, weight=N, upper=N, "
              "lower=N)");
        ok = false;
        continue;
      }
      if (*given) {
        error(where, token, "sets " + name + " a second time");
        ok = false;
        continue;
      }
      *given = true;
      if (auto n = check_uint(std::string_view(token).substr(eq + 1), 0, hi, false, why)) {
        *field = static_cast<uint32_t>(*n);
      } else {
        error(where, token, why);
        ok = false;
      }
    }
    // The rules of one real server are the model's (lb/model.h): lower <= upper, DR/TUNNEL
    // on the service's port, an address a service can use.
    if (ok)
      for (const Refusal& no : check_real_spec(rules_key(svc, vip_parsed, rs.key.ip),
                                               {rs.key, rs.fwd, rs.weight, rs.upper, rs.lower})) {
        error(where, no.field == Field::real ? addr : no.value, no.what);
        ok = false;
      }
    if (!ok) return std::nullopt;
    return out;
  }

  // Rules across services (and ports), once every section is loaded.
  void check_services() {
    auto& services = r_.config.services;
    std::map<std::string, std::string> ports;  // lower-case name -> name as written
    for (const auto& p : r_.config.ports) ports.emplace(lower(p.name), p.name);

    // Port names first: a local address names its port as the [port.NAME] header spells it.
    std::vector<std::vector<bool>> laddr_ok(services.size());
    for (size_t i = 0; i < services.size(); ++i) {
      ServiceConfig& s = services[i];
      const ServiceMeta& m = services_meta_[i];
      for (size_t j = 0; j < s.local_addresses.size(); ++j) {
        LocalAddressConfig& l = s.local_addresses[j];
        const auto p = ports.find(lower(l.port_name));
        laddr_ok[i].push_back(p != ports.end());
        if (p != ports.end())
          l.port_name = p->second;
        else
          error(m.section + ".local_addresses", m.laddr_text[j],
                "names no port (there is no [port." + l.port_name + "] section)");
      }
    }

    // Then the model decides (lb/model.h), exactly as for the lb.* commands: the services, then
    // their local addresses, then their real servers, so that each refusal is reported at the
    // object that is in the way whatever the order of the sections.
    LbModel model;
    std::vector<bool> added(services.size(), false);
    std::vector<std::optional<LbModel>> merged(services.size());  // for a duplicate service
    for (size_t i = 0; i < services.size(); ++i) {
      const ServiceConfig& s = services[i];
      const ServiceMeta& m = services_meta_[i];
      if (!m.key_ok) continue;
      Refusal no;
      if (model.add_service({s.key, s.scheduler, s.persistence_s}, Origin::file, m.section, &no)) {
        added[i] = true;
      } else if (const ModelService* other = model.find(s.key)) {
        error(m.section + ".vip", s.key.vip.str(),
              "with " + proto_word(s.key.proto) + " port " + std::to_string(s.key.port.host()) +
                  " is already " + other->name +
                  " (services must differ in protocol, vip or port)");
        // Its addresses are still checked, against a copy where it is merged into the other.
        merged[i] = model;
      } else {
        const char* key = no.field == Field::port          ? ".port"
                          : no.field == Field::persistence ? ".persistence"
                                                           : ".vip";
        error(m.section + key, no.value, no.what);
      }
    }
    auto model_of = [&](size_t i) -> LbModel* {
      return added[i] ? &model : merged[i] ? &*merged[i] : nullptr;
    };
    std::vector<bool> laddrs_refused(services.size(), false);
    for (size_t i = 0; i < services.size(); ++i) {
      const ServiceConfig& s = services[i];
      const ServiceMeta& m = services_meta_[i];
      LbModel* target = model_of(i);
      for (size_t j = 0; target && j < s.local_addresses.size(); ++j) {
        if (!laddr_ok[i][j]) continue;
        const LocalAddressConfig& l = s.local_addresses[j];
        Refusal no;
        if (!target->add_laddr(s.key, {l.ip, l.port_name}, Origin::file, &no)) {
          error(m.section + ".local_addresses", m.laddr_text[j], no.what);
          laddrs_refused[i] = true;
        }
      }
    }
    for (size_t i = 0; i < services.size(); ++i) {
      const ServiceConfig& s = services[i];
      const ServiceMeta& m = services_meta_[i];
      LbModel* target = model_of(i);
      for (size_t j = 0; target && j < s.real_servers.size(); ++j) {
        const RealServerConfig& c = s.real_servers[j];
        Refusal no;
        if (!target->add_real(s.key, {c.key, c.fwd, c.weight, c.upper, c.lower}, Origin::file, &no))
          error(m.real_where[j], no.field == Field::real ? m.real_addr[j] : no.value, no.what);
      }
    }

    // Valid, but probably not meant: FULLNAT real servers without a local address yet (the
    // control socket accepts -a before --add-laddr, so the file does too).
    for (const ModelWarning& w : model.check()) {
      for (size_t i = 0; i < services.size(); ++i) {
        const ServiceMeta& m = services_meta_[i];
        if (!added[i] || services[i].key != w.service || !m.laddrs_ok || laddrs_refused[i])
          continue;
        for (size_t j = 0; j < services[i].real_servers.size(); ++j) {
          if (!w.real || services[i].real_servers[j].key != *w.real) continue;
          warning(m.real_where[j], m.real_value[j],
                  std::string("forwards with fullnat") +
                      (m.real_fwd_given[j] ? "" : " (the default)") +
                      ", which needs a source address, but " + m.section +
                      ".local_addresses is empty: accepted, but its connections are dropped "
                      "until the service has one (add ADDR@PORT entries or choose nat, dr or "
                      "tunnel)");
        }
      }
    }
  }

  // ---- cross-port rules
  void check_ports() {
    std::map<std::string, std::string> devices, knis;  // identity -> owning port
    for (const auto& p : r_.config.ports) {
      const std::string sec = "port." + p.name;
      if (!p.device.empty()) {
        // Identity: the PCI address or the vdev instance name; devargs do not make a new device.
        std::string id = p.device.substr(0, split_devargs(p.device)[0].size());
        auto [it, inserted] = devices.emplace(id, p.name);
        if (!inserted) error(sec + ".device", p.device, "is already used by port." + it->second);
      }
      // Worker N transmits on queue N of every port: no tx lock, but one queue per worker.
      if (p.tx_queues < r_.config.global.workers)
        error(sec + ".tx_queues", std::to_string(p.tx_queues),
              "is fewer than global.workers (" + std::to_string(r_.config.global.workers) +
                  "): every worker needs its own tx queue on every port");
      if (!p.kni.empty()) {
        auto [it, inserted] = knis.emplace(p.kni, p.name);
        if (!inserted) error(sec + ".kni", p.kni, "is already used by port." + it->second);
      }
    }
  }

  ConfigLoadResult& r_;
  const std::string& path_;
  std::vector<std::pair<int, std::string>> errors_;  // (line, message); line 0 = whole file
  std::vector<std::pair<int, std::string>> warnings_;
  std::map<std::string, int> section_lines_;  // "[lower]" -> first header line
  std::map<std::string, int> key_lines_;      // "section.key" (lower) -> last line
  std::vector<ServiceMeta> services_meta_;    // parallel to r_.config.services
};

}  // namespace

bool PortConfig::is_pci() const {
  auto items = split_devargs(device);
  return !items.empty() && canonical_pci(items[0]).has_value();
}

ConfigLoadResult load_config(const std::string& path) {
  ConfigLoadResult result;
  try {
    result.config.path = path;
    Loader(result).run();
  } catch (const std::exception& e) {
    result.errors.push_back(path + ": internal error while loading: " + e.what());
  } catch (...) {
    result.errors.push_back(path + ": internal error while loading");
  }
  return result;
}

}  // namespace vsgate
