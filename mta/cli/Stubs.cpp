// Stubs: placeholders replaced as the subcommands land (removed by then).
#include <cstdio>

#include "mta/cli/Commands.hpp"

namespace ferry::cli {
int cmd_serve(const Args&) { std::fputs("ferry serve: not built yet\n", stderr); return kExitFailure; }
int cmd_queue(const Args&) { std::fputs("ferry queue: not built yet\n", stderr); return kExitFailure; }
}  // namespace ferry::cli
