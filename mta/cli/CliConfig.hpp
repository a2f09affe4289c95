// CliConfig: the options every subcommand shares (--config FILE, $FERRY_CONFIG) and loading.
// Contract: load_cli_config prints configuration errors itself ("ferry: configuration error: ...").
#pragma once

#include <optional>
#include <string>

#include "mta/cli/Commands.hpp"
#include "mta/config/Config.hpp"
#include "queue/QueueStore.hpp"

namespace ferry::cli {

struct CommonOptions {
  std::optional<std::string> config_path;  // --config FILE, -c FILE, or $FERRY_CONFIG
};

// Removes the common options from `in`, leaving the rest in `rest`. Returns kExitOk or kExitUsage.
int parse_common_options(const Args& in, CommonOptions& common, Args& rest);

// The effective configuration, or nullopt after printing the error.
std::optional<config::Config> load_cli_config(const CommonOptions& common);

queue::QueueOptions queue_options(const config::Config& config);

}  // namespace ferry::cli
