// Human-readable output of vsgatectl: pure functions from a command's "result" JSON to text, so
// that tests check them without a daemon. They never throw: missing or mistyped fields (an older
// or newer daemon) print as "-" instead of aborting the whole table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctrl/protocol.h"

namespace vsgate::vsgatectl {

// A text table: columns padded to their widest cell, separated by two spaces, no trailing
// blanks. Numbers read best right-aligned, text left-aligned.
class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string header;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns);
  // Cells beyond the column count are ignored; missing cells are empty.
  void add_row(std::vector<std::string> cells);
  // headers=false for key/value lists. Every line is prefixed with `indent` and ends in '\n'.
  std::string render(bool headers = true, std::string_view indent = "") const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// One formatter per command; `result` is the reply's "result" object.
std::string format_version(const Json& result);
std::string format_port_show(const Json& result);
std::string format_port_stats(const Json& result);
std::string format_lcore_stats(const Json& result);
std::string format_neigh_show(const Json& result);
std::string format_route_show(const Json& result);
std::string format_addr_show(const Json& result);
// Picks the formatter for a protocol command ("port.show", ...); pretty JSON for others.
std::string format_result(std::string_view cmd, const Json& result);
// The --json output: the result pretty-printed with a 2-space indent, and a final newline.
std::string format_json(const Json& result);

// Helpers, exposed for tests.
std::string format_speed(const Json& speed_mbps);  // 10000 -> "10G", 100 -> "100M", 0 -> "-"
std::string format_percent(double ratio);          // 0.0123 -> "1.23%"

}  // namespace vsgate::vsgatectl
