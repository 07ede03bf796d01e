// A small blocking HTTP/1.1 client over POSIX sockets, for tests only. It can send
// well-formed requests on a kept-alive connection or arbitrary raw bytes, so that tests
// can probe the server with malformed input. Not thread-safe; one per test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace thunder::http {

struct ClientResponse {
  int status = 0;                              // 0 when no complete response arrived
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  ClientResponse Get(const std::string& target, const std::string& token = "");
  ClientResponse Post(const std::string& target, const std::string& body,
                      const std::string& token = "");
  ClientResponse Patch(const std::string& target, const std::string& body,
                       const std::string& token = "");
  ClientResponse Request(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& token);

  // Sends `bytes` as they are on the current connection and reads one response.
  ClientResponse SendRaw(const std::string& bytes);
  // Connects (if needed) and writes `bytes` without reading anything.
  bool WriteRaw(const std::string& bytes);
  // Reads one response from the current connection.
  ClientResponse ReadResponse();
  // Every byte the server sends until it closes the connection (or the timeout passes).
  std::string ReadUntilClosed();
  // True when the server closes the connection (EOF or reset) within `wait`.
  bool ServerClosed(std::chrono::milliseconds wait = std::chrono::milliseconds(2000));
  void Close();

 private:
  bool EnsureConnected();
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the previous response
};

}  // namespace thunder::http
