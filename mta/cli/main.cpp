// main: dispatches `ferry <subcommand>`; each subcommand lives in its own file under mta/cli.
// Contract: exit codes follow sysexits(3) (64 usage, 78 configuration, 75 temporary failure).
#include "mta/cli/Commands.hpp"

int main(int argc, char** argv) { return ferry::cli::run_main(argc, argv); }
