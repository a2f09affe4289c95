// Subprocess: runs a command (the real ferry binary) for integration tests.
// Contract: run() waits and captures stdout/stderr/exit code; Daemon starts one in the background.
#pragma once

#include <string>
#include <vector>

namespace ferry::test {

struct RunResult {
  int exit_code = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv[0] with argv, feeding `input` to stdin; waits at most `timeout_s` seconds (then kills).
RunResult run(const std::vector<std::string>& argv, const std::string& input = {}, int timeout_s = 60);

// A fresh temporary directory, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A background process (e.g. `ferry serve`) whose stderr goes to a file that tests can poll.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~Background();  // SIGKILLs the process if it still runs
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  int pid() const { return pid_; }
  // Waits until the stderr file contains `needle` (true) or the process exits / time runs out.
  bool wait_for_output(const std::string& needle, int timeout_ms = 10000) const;
  std::string output() const;
  // Sends `signo` and waits for the exit; returns the exit code (128+signal when killed).
  int stop(int signo, int timeout_ms = 10000);
  bool running();

 private:
  int pid_ = -1;
  std::string stderr_path_;
  int exit_code_ = -1;
};

}  // namespace ferry::test
