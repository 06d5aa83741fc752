// A command module: handlers are named free functions over a context (a small struct of
// references to what the commands read and change), listed in a table of (name, handler) and
// registered into the control socket's CommandTable. The context is copied into each entry;
// what it refers to must outlive the table.
#pragma once

#include <cstddef>

#include "ctrl/protocol.h"

namespace vsgate {

template <class Context>
struct Command {
  const char* name;
  Result<Json> (*handler)(const Context& context, const Json& args);
};

template <class Context, size_t N>
void add_commands(CommandTable& table, const Context& context,
                  const Command<Context> (&commands)[N]) {
  for (const Command<Context>& c : commands)
    table.add(c.name,
              [context, handler = c.handler](const Json& args) { return handler(context, args); });
}

}  // namespace vsgate
