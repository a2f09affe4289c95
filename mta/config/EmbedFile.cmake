# Turns INPUT into a C++ source defining ferry::config::default_config_text() (raw string).
file(READ ${INPUT} CONTENT)
set(DELIM "FERRY_TOML_")
file(WRITE ${OUTPUT} "// Generated from conf/ferry.toml; do not edit.\n#include <string_view>\nnamespace ferry::config {\nstd::string_view default_config_text() {\n  static constexpr char text[] = R\"${DELIM}(${CONTENT})${DELIM}\";\n  return {text, sizeof(text) - 1};\n}\n}  // namespace ferry::config\n")
