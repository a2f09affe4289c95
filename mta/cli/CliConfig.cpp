// CliConfig: see CliConfig.hpp. $FERRY_CONFIG is the fallback so `ferry queue` and a daemon
// started with the same environment agree on where the queue is.
#include "mta/cli/CliConfig.hpp"

#include <cstdio>
#include <cstdlib>

namespace ferry::cli {

int parse_common_options(const Args& in, CommonOptions& common, Args& rest) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string& a = in[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= in.size()) {
        std::fprintf(stderr, "ferry: %s needs a file name\n", a.c_str());
        return kExitUsage;
      }
      common.config_path = in[++i];
    } else if (a.starts_with("--config=")) {
      common.config_path = a.substr(9);
    } else {
      rest.push_back(a);
    }
  }
  if (!common.config_path) {
    if (const char* env = std::getenv("FERRY_CONFIG"); env && *env) common.config_path = env;
  }
  return kExitOk;
}

std::optional<config::Config> load_cli_config(const CommonOptions& common) {
  auto loaded = config::load_config(common.config_path);
  if (!loaded) {
    std::fprintf(stderr, "ferry: configuration error: %s\n", loaded.error().str().c_str());
    return std::nullopt;
  }
  return std::move(loaded).value();
}

queue::QueueOptions queue_options(const config::Config& config) {
  queue::QueueOptions options;
  options.path = config.queue.path;
  options.map_size = config.queue.max_size;
  options.sync = config.queue.sync;
  return options;
}

}  // namespace ferry::cli
