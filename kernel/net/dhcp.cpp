// DHCPv4 client (RFC 2131) — placeholder until the client lands.
#include "net/stack.h"

namespace kiln::net {

struct Dhcp {};

Result<void> dhcp_start(StackImpl* s, Interface* ifc) {
    (void)s;
    (void)ifc;
    net_log("kiln: net: DHCP client not implemented yet");
    return Error(Errno::kEOPNOTSUPP);
}

bool StackImpl::dhcp_input(IpPacket& p) {
    (void)p;
    return false;
}
void StackImpl::dhcp_timers() {}
uint64_t StackImpl::dhcp_deadline() const {
    return kNever;
}
void StackImpl::dhcp_free(Interface* ifc) {
    (void)ifc;
}

}  // namespace kiln::net
