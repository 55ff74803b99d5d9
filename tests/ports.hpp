#pragma once

/// A loopback port nobody uses right now, for servers a test starts (the kernel picks it; the
/// socket is closed again, so a busy machine could in principle hand it out once more).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sg::test {

/// `type`: SOCK_STREAM (TCP: gRPC) or SOCK_DGRAM (UDP: OSC). -1 when none could be had.
inline int free_loopback_port(int type = SOCK_STREAM) {
  const int fd = ::socket(AF_INET, type, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

} // namespace sg::test
