// Stubs: placeholders replaced as the subcommands land (removed by then).
#include <cstdio>

#include "mta/cli/Commands.hpp"

namespace ferry::cli {
}  // namespace ferry::cli
