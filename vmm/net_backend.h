// The network backends behind virtio-net, opened before seccomp:
//   --net tap:NAME  an existing TAP device (/dev/net/tun, IFF_TAP|IFF_NO_PI|
//                   IFF_VNET_HDR), checksum offload set to what the driver
//                   negotiated (TUNSETOFFLOAD);
//   --net user      kiln-slirp, a helper process running libslirp, joined by
//                   a SOCK_SEQPACKET socket pair that carries the same
//                   header + frame packets as the TAP does.
// libslirp lives in its own process because kiln-vmm is linked statically
// (Debian ships libslirp and GLib only as shared libraries) and because
// slirp opens host sockets, which kiln-vmm's seccomp filter forbids.
#pragma once

#include "net_options.h"
#include "virtio_net.h"

namespace kiln::vmm {

// Each exits with a message (status 125) when the backend cannot be made.
NetBackend* open_tap_backend(const char* name);
NetBackend* start_user_backend(const NetOptions& opt);

}  // namespace kiln::vmm
