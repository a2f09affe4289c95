// ferry-postdrop: the setgid ferry-drop helper (a separate, small executable so that the group
// privilege never reaches the rest of ferry's subcommands). See Postdrop.cpp.
#include <string>

#include "mta/cli/Commands.hpp"

int main(int argc, char** argv) { return ferry::cli::cmd_postdrop(ferry::cli::Args(argv + 1, argv + argc)); }
