#pragma once
// Running programs from tests: the real qdgen binary (QDGEN_BINARY) or any shell command,
// with stdout and stderr captured together and the exit status decoded; or in the background
// (a server, a run that writes while a test reads), its output read as it comes.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
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

// A shell command running beside the test, stdout and stderr into one pipe the test reads.
// The destructor kills it (SIGKILL) if it still runs.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::string& command) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
    fcntl(out_, F_SETFL, fcntl(out_, F_GETFL) | O_NONBLOCK);
  }
  ~BackgroundProcess() {
    if (running()) {
      kill(pid_, SIGKILL);
      wait_exit();
    }
    if (out_ >= 0) close(out_);
  }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exited_; }

  // Reads the output until `ready()` holds, the output ends or `seconds` pass; returns
  // whether it holds. `ready` is asked at least every 50 ms, so it may watch more than the
  // output (a file the process writes).
  template <class Ready>
  bool wait_until(Ready ready, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!ready()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || end_of_output_) return ready();
      read_some(static_cast<int>(std::min<long long>(left.count(), 50)));
    }
    return true;
  }
  // Reads until the output holds `text` or `seconds` pass; returns whether it does.
  bool wait_for_output(const std::string& text, double seconds) {
    return wait_until([&] { return output_.find(text) != std::string::npos; }, seconds);
  }
  const std::string& output() const { return output_; }

  void signal(int number) const {
    if (running()) kill(pid_, number);
  }
  // Waits for the exit (the output read to its end), at most `seconds`, then kills it.
  ProcessResult wait(double seconds = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!end_of_output_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        if (running()) kill(pid_, SIGKILL);
        break;
      }
      read_some(static_cast<int>(left.count()));
    }
    return wait_exit();
  }

 private:
  // One read within `milliseconds`; false at the end of the output or on a timeout.
  bool read_some(int milliseconds) {
    if (out_ < 0 || end_of_output_) return false;
    pollfd fd{out_, POLLIN, 0};
    if (poll(&fd, 1, milliseconds) <= 0) return false;
    std::array<char, 4096> buffer;
    const ssize_t n = read(out_, buffer.data(), buffer.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) end_of_output_ = true;
    if (n <= 0) return false;
    output_.append(buffer.data(), static_cast<std::size_t>(n));
    return true;
  }
  ProcessResult wait_exit() {
    if (!exited_ && pid_ > 0) {
      waitpid(pid_, &status_, 0);
      exited_ = true;
    }
    ProcessResult result;
    if (WIFEXITED(status_)) result.status = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) result.signal = WTERMSIG(status_);
    result.output = output_;
    return result;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  bool end_of_output_ = false;
  int status_ = 0;
  std::string output_;
};

}  // namespace qdgen_test
