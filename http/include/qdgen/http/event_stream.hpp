#pragma once
// A stream of server-sent events (text/event-stream). The server calls `poll` on one of its
// threads, one call at a time: once when the stream opens and then every `interval`. Each call
// appends the events to send now and says whether the stream goes on; the stream also ends
// when the client goes away or the server stops. A producer on another thread (a model
// writing tokens) hands events over through its own queue that `poll` drains.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace qdgen::http {

struct Event {
  std::string type;  // the "event:" field; empty: a plain message
  std::string data;  // one line or several (each becomes a "data:" line)
  std::string id;    // the "id:" field, if any
};

// The wire form of one event, ending with the blank line that dispatches it.
std::string format_event(const Event& event);

struct EventStream {
  std::function<bool(std::vector<Event>& out)> poll;
  std::chrono::milliseconds interval{500};
};

}  // namespace qdgen::http
