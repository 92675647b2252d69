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

// What the kernel is told about --net user's fixed network (kiln_slirp.cpp:
// guest 10.0.2.15/24, gateway and host loopback 10.0.2.2, DNS 10.0.2.3):
// its address statically, so no DHCP exchange delays its first packet, and
// kiln.net.lazy, so the NIC comes up at the first socket — through slirp
// nothing reaches a guest that has none, and a program without sockets
// then costs no device set-up and no helper process. Added unless the
// command line configures the network itself (kiln.net= or kiln.ip=).
inline constexpr const char* kUserNetKernelArgs =
    "kiln.net.lazy kiln.ip=10.0.2.15/24,10.0.2.2,10.0.2.3";

// Each exits with a message (status 125) when the backend cannot be made.
NetBackend* open_tap_backend(const char* name);
NetBackend* start_user_backend(const NetOptions& opt);

}  // namespace kiln::vmm
