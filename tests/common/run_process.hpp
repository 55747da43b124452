#pragma once
// Running programs from tests: the real qdgen binary (QDGEN_BINARY) or any shell command,
// with stdout and stderr captured together and the exit status decoded.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace qdgen_test {

struct ProcessResult {
  int status = -1;     // exit status; -1 when the process was killed by a signal
  int signal = 0;      // the signal that killed it, else 0
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh with stderr folded into stdout.
inline ProcessResult run_shell(const std::string& command) {
  ProcessResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    result.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

// `qdgen <arguments>`; the arguments are shell words (quote them as a shell would), and may
// end with redirections.
inline ProcessResult qdgen(const std::string& arguments) {
  return run_shell(std::string(QDGEN_BINARY) + " " + arguments);
}

}  // namespace qdgen_test
