#include "http/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace thunder::http {

TestClient::TestClient(uint16_t port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {}

TestClient::~TestClient() { Close(); }

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

bool TestClient::EnsureConnected() {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  timeval tv{};
  tv.tv_sec = timeout_.count() / 1000;
  tv.tv_usec = (timeout_.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Close();
    return false;
  }
  return true;
}

bool TestClient::WriteRaw(const std::string& bytes) {
  if (!EnsureConnected()) return false;
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

ClientResponse TestClient::ReadResponse() {
  ClientResponse out;
  if (fd_ < 0) return out;
  std::string& buf = pending_;
  auto fill = [&]() -> bool {
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return out;
  }
  const std::string head = buf.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return out;
  const int status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    out.headers[name] = line.substr(v);
  }
  size_t length = 0;
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    length = std::stoul(it->second);
  }
  const size_t body_start = header_end + 4;
  while (buf.size() < body_start + length) {
    if (!fill()) return out;
  }
  out.body = buf.substr(body_start, length);
  buf.erase(0, body_start + length);
  out.status = status;
  return out;
}

std::string TestClient::ReadUntilClosed() {
  std::string out = std::move(pending_);
  pending_.clear();
  if (fd_ < 0) return out;
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  return out;
}

ClientResponse TestClient::SendRaw(const std::string& bytes) {
  if (!WriteRaw(bytes)) return {};
  return ReadResponse();
}

ClientResponse TestClient::Request(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& token) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  ClientResponse r = SendRaw(req);
  if (r.status == 0) {
    // The server may have closed a kept-alive connection; retry once on a fresh one.
    Close();
    r = SendRaw(req);
  }
  if (auto it = r.headers.find("connection"); it != r.headers.end() && it->second == "close") {
    Close();
  }
  return r;
}

ClientResponse TestClient::Get(const std::string& target, const std::string& token) {
  return Request("GET", target, "", token);
}
ClientResponse TestClient::Post(const std::string& target, const std::string& body,
                                const std::string& token) {
  return Request("POST", target, body, token);
}
ClientResponse TestClient::Patch(const std::string& target, const std::string& body,
                                 const std::string& token) {
  return Request("PATCH", target, body, token);
}

bool TestClient::ServerClosed(std::chrono::milliseconds wait) {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;  // still open
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, 0);
  if (n == 0) return true;
  if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) return true;
  return false;  // data arrived, or the read timed out with the connection still open
}

}  // namespace thunder::http
