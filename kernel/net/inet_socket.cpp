// What every AF_INET/AF_INET6 socket shares: address checks, binding and
// port allocation, names, and the socket options that are not TCP's own
// (socket(7), ip(7), ipv6(7)).
#include "net/socket.h"

namespace kiln::net {

namespace {

// Whether two bound local addresses can receive the same packets.
bool addrs_overlap(const InetSocket* a, const IpAddr& b, bool b_v6only) {
    const IpAddr& x = a->local;
    if (x.is_any6()) return !(a->v6only && b.is_v4());
    if (b.is_any6()) return !(b_v6only && x.is_v4());
    if (x.is_v4() && x.is_any()) return b.is_v4();
    if (b.is_v4() && b.is_any()) return x.is_v4();
    return x == b;
}

Result<int> read_int(Span<const uint8_t> v) {
    if (v.size() < 4) return Error(Errno::kEINVAL);
    int x;
    __builtin_memcpy(&x, v.data(), 4);
    return x;
}

size_t write_int(Span<uint8_t> v, int x) {
    size_t n = v.size() < 4 ? v.size() : 4;
    __builtin_memcpy(v.data(), &x, n);
    return n;
}

}  // namespace

bool StackImpl::port_in_use(uint8_t proto, const IpAddr& addr, uint16_t port,
                            const InetSocket* self, bool reuse) const {
    InetSocket* list = proto == kProtoTcp ? tcp_list : udp_list;
    bool v6only = self != nullptr && self->v6only;
    bool self_reuseport = self != nullptr && self->reuseport;
    for (InetSocket* o = list; o != nullptr; o = o->list_next) {
        if (o == self || !o->bound || o->lport != port) continue;
        if (!addrs_overlap(o, addr, v6only)) continue;
        if (self_reuseport && o->reuseport) continue;
        if (proto == kProtoTcp) {
            auto st = static_cast<const TcpSocket*>(o)->state;
            // SO_REUSEADDR (socket(7)): rebinding over connections that are
            // ending or established is fine; over a listener it is not.
            if (reuse && (st == TcpState::kTimeWait || st == TcpState::kClosed)) continue;
            if (reuse && o->reuseaddr && st != TcpState::kListen) continue;
        } else if (reuse && o->reuseaddr) {
            continue;
        }
        return true;
    }
    return false;
}

Result<uint16_t> StackImpl::ephemeral_port(uint8_t proto, const IpAddr& addr) {
    const uint32_t range = kEphemeralHigh - kEphemeralLow + 1;
    for (uint32_t i = 0; i < range; ++i) {
        uint16_t p = next_ephemeral;
        next_ephemeral = p >= kEphemeralHigh ? kEphemeralLow : static_cast<uint16_t>(p + 1);
        if (!port_in_use(proto, IpAddr(), p, nullptr, false)) return p;
    }
    (void)addr;
    return Error(Errno::kEADDRNOTAVAIL);
}

Result<IpAddr> InetSocket::check_addr(const SockAddr& sa) const {
    if (family_ == kAfInet) {
        if (sa.family != kAfInet) return Error(Errno::kEAFNOSUPPORT);
        return IpAddr::v4(sa.addr);
    }
    if (sa.family != kAfInet6) return Error(Errno::kEAFNOSUPPORT);
    IpAddr a = IpAddr::v6(sa.addr);
    if (a.is_v4() && v6only) return Error(Errno::kEINVAL);
    return a;
}

bool InetSocket::accepts_dst(const IpAddr& dst) const {
    if (local.is_any6()) return !(v6only && dst.is_v4());
    if (local.is_v4() && local.is_any()) return dst.is_v4();
    return local == dst;
}

Result<void> InetSocket::bind_common(const SockAddr& sa) {
    if (bound) return Error(Errno::kEINVAL);
    IpAddr a = TRY(check_addr(sa));
    if (!a.is_any() && !stack_->is_local(a) && !(proto_ == kProtoUdp && a.is_multicast()) &&
        !(proto_ == kProtoUdp && a.is_v4_broadcast()))
        return Error(Errno::kEADDRNOTAVAIL);
    uint16_t port = sa.port;
    if (port == 0) {
        port = TRY(stack_->ephemeral_port(proto_, a));
    } else if (stack_->port_in_use(proto_, a, port, this, reuseaddr)) {
        return Error(Errno::kEADDRINUSE);
    }
    local = a;
    lport = port;
    bound = true;
    addr_locked = !a.is_any();
    port_locked = sa.port != 0;
    return {};
}

Result<void> InetSocket::autobind(const IpAddr& to) {
    (void)to;
    if (bound) return {};
    lport = TRY(stack_->ephemeral_port(proto_, local));
    bound = true;
    return {};
}

Result<void> InetSocket::local_name(SockAddr* out) const {
    *out = to_sockaddr(family_, local, lport);
    return {};
}

Result<void> InetSocket::peer_name(SockAddr* out) const {
    if (!connected) return Error(Errno::kENOTCONN);
    *out = to_sockaddr(family_, remote, rport);
    return {};
}

Result<void> InetSocket::store_option(int level, int name, Span<const uint8_t> v) {
    if (v.size() > sizeof(StoredOption::value)) return Error(Errno::kEINVAL);
    StoredOption* free_slot = nullptr;
    for (StoredOption& o : stored_) {
        if (o.len != 0 && o.level == level && o.name == name) {
            free_slot = &o;
            break;
        }
        if (o.len == 0 && free_slot == nullptr) free_slot = &o;
    }
    if (free_slot == nullptr) return Error(Errno::kENOMEM);
    free_slot->level = level;
    free_slot->name = name;
    free_slot->len = static_cast<uint8_t>(v.size() == 0 ? 1 : v.size());
    __builtin_memset(free_slot->value, 0, sizeof(free_slot->value));
    __builtin_memcpy(free_slot->value, v.data(), v.size());
    return {};
}

Result<size_t> InetSocket::load_option(int level, int name, Span<uint8_t> v) {
    for (StoredOption& o : stored_) {
        if (o.len != 0 && o.level == level && o.name == name) {
            size_t n = v.size() < o.len ? v.size() : o.len;
            __builtin_memcpy(v.data(), o.value, n);
            return n;
        }
    }
    // Never set: zero of the option's usual size (an int, or a timeval).
    size_t want = (level == kSolSocket && (name == kSoRcvtimeo || name == kSoSndtimeo)) ? 16 : 4;
    size_t n = v.size() < want ? v.size() : want;
    __builtin_memset(v.data(), 0, n);
    return n;
}

Result<void> InetSocket::set_common_option(int level, int name, Span<const uint8_t> v) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoReuseaddr:
                reuseaddr = TRY(read_int(v)) != 0;
                return {};
            case kSoReuseport:
                reuseport = TRY(read_int(v)) != 0;
                return {};
            case kSoBroadcast:
                broadcast = TRY(read_int(v)) != 0;
                return {};
            case kSoKeepalive:
                keepalive = TRY(read_int(v)) != 0;
                return {};
            case kSoSndbuf:
            case kSoSndbufforce:
            case kSoRcvbuf:
            case kSoRcvbufforce: {
                int x = TRY(read_int(v));
                // Linux doubles the value for bookkeeping overhead and
                // reports the doubled value back.
                size_t n = x < 0 ? 0 : static_cast<size_t>(x) * 2;
                if (n < kMinBuf) n = kMinBuf;
                if (n > kMaxBuf) n = kMaxBuf;
                if (name == kSoSndbuf || name == kSoSndbufforce)
                    sndbuf = n;
                else
                    rcvbuf = n;
                return {};
            }
            case kSoLinger: {
                if (v.size() < 8) return Error(Errno::kEINVAL);
                int on, secs;
                __builtin_memcpy(&on, v.data(), 4);
                __builtin_memcpy(&secs, v.data() + 4, 4);
                linger_on = on != 0;
                linger_secs = secs < 0 ? 0 : secs;
                return {};
            }
            case kSoDebug:
            case kSoDontroute:
            case kSoOobinline:
            case kSoNoCheck:
            case kSoPriority:
            case kSoBsdcompat:
            case kSoRcvlowat:
            case kSoRcvtimeo:
            case kSoSndtimeo:
                return store_option(level, name, v);
            case kSoSndlowat:
                return Error(Errno::kENOPROTOOPT);  // Linux refuses to set it too
            case kSoType:
            case kSoError:
            case kSoAcceptconn:
            case kSoProtocol:
            case kSoDomain:
                return Error(Errno::kENOPROTOOPT);  // read-only
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    if (level == kSolIp) {
        switch (name) {
            case kIpTtl: {
                int x = TRY(read_int(v));
                if (x == -1) x = 64;
                if (x < 1 || x > 255) return Error(Errno::kEINVAL);
                ttl = static_cast<uint8_t>(x);
                return {};
            }
            case kIpTos:
                tos = static_cast<uint8_t>(TRY(read_int(v)) & 0xfc);
                return {};
            case kIpMtuDiscover:
            case kIpRecverr:
                return store_option(level, name, v);
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    if (level == kSolIpv6) {
        if (family_ != kAfInet6) return Error(Errno::kENOPROTOOPT);
        switch (name) {
            case kIpv6V6only:
                if (bound) return Error(Errno::kEINVAL);
                v6only = TRY(read_int(v)) != 0;
                return {};
            case kIpv6UnicastHops: {
                int x = TRY(read_int(v));
                if (x == -1) x = 64;
                if (x < 0 || x > 255) return Error(Errno::kEINVAL);
                ttl = static_cast<uint8_t>(x);
                return {};
            }
            case kIpv6Tclass: {
                int x = TRY(read_int(v));
                if (x == -1) x = 0;
                if (x < 0 || x > 255) return Error(Errno::kEINVAL);
                tos = static_cast<uint8_t>(x);
                return {};
            }
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    return Error(Errno::kENOPROTOOPT);
}

Result<size_t> InetSocket::get_common_option(int level, int name, Span<uint8_t> v) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoReuseaddr:
                return write_int(v, reuseaddr);
            case kSoReuseport:
                return write_int(v, reuseport);
            case kSoBroadcast:
                return write_int(v, broadcast);
            case kSoKeepalive:
                return write_int(v, keepalive);
            case kSoSndbuf:
            case kSoSndbufforce:
                return write_int(v, static_cast<int>(sndbuf));
            case kSoRcvbuf:
            case kSoRcvbufforce:
                return write_int(v, static_cast<int>(rcvbuf));
            case kSoType:
                return write_int(v, type_);
            case kSoError:
                return write_int(v, take_error());
            case kSoProtocol:
                return write_int(v, proto_);
            case kSoDomain:
                return write_int(v, family_);
            case kSoLinger: {
                uint8_t l[8];
                int on = linger_on, secs = linger_secs;
                __builtin_memcpy(l, &on, 4);
                __builtin_memcpy(l + 4, &secs, 4);
                size_t n = v.size() < 8 ? v.size() : 8;
                __builtin_memcpy(v.data(), l, n);
                return n;
            }
            case kSoDebug:
            case kSoDontroute:
            case kSoOobinline:
            case kSoNoCheck:
            case kSoPriority:
            case kSoBsdcompat:
            case kSoRcvtimeo:
            case kSoSndtimeo:
                return load_option(level, name, v);
            case kSoRcvlowat:
            case kSoSndlowat: {
                auto n = load_option(level, name, v);
                int x;
                if (n.ok() && *n == 4) {
                    __builtin_memcpy(&x, v.data(), 4);
                    if (x == 0) return write_int(v, 1);  // Linux's default low-water mark
                }
                return n;
            }
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    if (level == kSolIp) {
        switch (name) {
            case kIpTtl:
                return write_int(v, ttl);
            case kIpTos:
                return write_int(v, tos);
            case kIpMtuDiscover:
            case kIpRecverr:
                return load_option(level, name, v);
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    if (level == kSolIpv6) {
        if (family_ != kAfInet6) return Error(Errno::kENOPROTOOPT);
        switch (name) {
            case kIpv6V6only:
                return write_int(v, v6only);
            case kIpv6UnicastHops:
                return write_int(v, ttl);
            case kIpv6Tclass:
                return write_int(v, tos);
            default:
                return Error(Errno::kENOPROTOOPT);
        }
    }
    return Error(Errno::kENOPROTOOPT);
}

}  // namespace kiln::net
