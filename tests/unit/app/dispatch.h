// Test helper for the command modules of vsgated (daemon/app/commands/): one request through
// the real CommandTable dispatch, the reply parsed back.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "ctrl/protocol.h"

namespace vsgate::test {

struct Reply {
  bool ok = false;
  Json result;        // when ok
  std::string error;  // when not
  std::string line;   // the reply line as sent
};

inline Reply dispatch(const CommandTable& table, const std::string& cmd,
                      const Json& args = Json::object()) {
  Reply r;
  r.line = table.dispatch(Json{{"cmd", cmd}, {"args", args}}.dump());
  const Json j = Json::parse(r.line);
  r.ok = j.at("ok").get<bool>();
  if (r.ok)
    r.result = j.at("result");
  else
    r.error = j.at("error").get<std::string>();
  return r;
}

}  // namespace vsgate::test
