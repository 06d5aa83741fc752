// A small builder for test frames (Ethernet, VLAN, ARP, IPv4, ICMP, UDP), in the spirit of
// Katran's table-driven packet tests: each case is an input frame, an expected verdict and,
// where the data plane rewrites, the expected output frame.
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/net_types.h"

namespace vsgate::test {

using Bytes = std::vector<uint8_t>;

inline MacAddr mac(const char* s) { return *MacAddr::parse(s); }
inline Ipv4Addr ip(const char* s) { return *Ipv4Addr::parse(s); }
inline rte_ether_addr ether(const char* s) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, mac(s).bytes.data(), 6);
  return a;
}

class PacketBuilder {
 public:
  PacketBuilder& eth(const char* dst, const char* src, uint16_t type) {
    rte_ether_hdr h{};
    std::memcpy(h.dst_addr.addr_bytes, mac(dst).bytes.data(), 6);
    std::memcpy(h.src_addr.addr_bytes, mac(src).bytes.data(), 6);
    h.ether_type = rte_cpu_to_be_16(type);
    append(&h, sizeof h);
    return *this;
  }
  PacketBuilder& vlan(uint16_t tci, uint16_t inner_type) {
    rte_vlan_hdr h{};
    h.vlan_tci = rte_cpu_to_be_16(tci);
    h.eth_proto = rte_cpu_to_be_16(inner_type);
    append(&h, sizeof h);
    return *this;
  }
  PacketBuilder& arp_request(const char* sha, const char* spa, const char* tpa) {
    rte_arp_hdr h{};
    h.arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
    h.arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    h.arp_hlen = 6;
    h.arp_plen = 4;
    h.arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
    std::memcpy(h.arp_data.arp_sha.addr_bytes, mac(sha).bytes.data(), 6);
    h.arp_data.arp_sip = ip(spa).be;
    h.arp_data.arp_tip = ip(tpa).be;
    append(&h, sizeof h);
    return *this;
  }
  // IPv4 header with a correct checksum over `options` and a total length covering
  // `payload_len` bytes that the caller appends next (icmp_echo/udp/raw).
  PacketBuilder& ipv4(const char* src, const char* dst, uint8_t ttl, uint8_t proto,
                      uint16_t payload_len, const Bytes& options = {}) {
    rte_ipv4_hdr h{};
    h.version_ihl = static_cast<uint8_t>(0x40 | ((sizeof h + options.size()) / 4));
    h.total_length =
        rte_cpu_to_be_16(static_cast<uint16_t>(sizeof h + options.size() + payload_len));
    h.packet_id = rte_cpu_to_be_16(0x1234);
    h.time_to_live = ttl;
    h.next_proto_id = proto;
    h.src_addr = ip(src).be;
    h.dst_addr = ip(dst).be;
    ip_offset_ = data_.size();
    append(&h, sizeof h);
    append(options.data(), options.size());
    fix_ipv4_checksum();
    return *this;
  }
  PacketBuilder& icmp_echo(uint16_t id, uint16_t seq, size_t data_len) {
    Bytes b(sizeof(rte_icmp_hdr) + data_len, 0xab);
    auto* h = reinterpret_cast<rte_icmp_hdr*>(b.data());
    h->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    h->icmp_code = 0;
    h->icmp_cksum = 0;
    h->icmp_ident = rte_cpu_to_be_16(id);
    h->icmp_seq_nb = rte_cpu_to_be_16(seq);
    h->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(b.data(), b.size()));
    append(b.data(), b.size());
    return *this;
  }
  // TCP header (no options) + `payload_len` bytes, checksum over the pseudo-header. Call after
  // ipv4() with payload_len = 20 + the TCP payload length.
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags, size_t payload_len = 0,
                     uint32_t seq = 1000) {
    rte_tcp_hdr h{};
    h.src_port = rte_cpu_to_be_16(sport);
    h.dst_port = rte_cpu_to_be_16(dport);
    h.sent_seq = rte_cpu_to_be_32(seq);
    h.data_off = 5 << 4;
    h.tcp_flags = flags;
    h.rx_win = rte_cpu_to_be_16(65535);
    l4_offset_ = data_.size();
    append(&h, sizeof h);
    data_.resize(data_.size() + payload_len, 0x5a);
    return fix_l4_checksum();
  }
  // UDP header + payload; checksum computed unless `with_checksum` is false (0 = none).
  PacketBuilder& udp(uint16_t sport, uint16_t dport, size_t payload_len,
                     bool with_checksum = true) {
    rte_udp_hdr h{};
    h.src_port = rte_cpu_to_be_16(sport);
    h.dst_port = rte_cpu_to_be_16(dport);
    h.dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof h + payload_len));
    l4_offset_ = data_.size();
    append(&h, sizeof h);
    data_.resize(data_.size() + payload_len, 0x33);
    return with_checksum ? fix_l4_checksum() : *this;
  }
  PacketBuilder& fix_l4_checksum() {
    auto* ip = ip_hdr();
    void* l4 = data_.data() + l4_offset_;
    if (ip->next_proto_id == IPPROTO_TCP) {
      auto* t = static_cast<rte_tcp_hdr*>(l4);
      t->cksum = 0;
      t->cksum = rte_ipv4_udptcp_cksum(ip, l4);
    } else {
      auto* u = static_cast<rte_udp_hdr*>(l4);
      u->dgram_cksum = 0;
      u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, l4);
    }
    return *this;
  }
  PacketBuilder& raw(const Bytes& b) {
    append(b.data(), b.size());
    return *this;
  }
  PacketBuilder& pad_to(size_t len) {
    if (data_.size() < len) data_.resize(len, 0);
    return *this;
  }
  // Mutators for malformed fixtures; the caller decides whether to re-checksum.
  rte_ipv4_hdr* ip_hdr() { return reinterpret_cast<rte_ipv4_hdr*>(data_.data() + ip_offset_); }
  PacketBuilder& fix_ipv4_checksum() {
    auto* h = ip_hdr();
    h->hdr_checksum = 0;
    h->hdr_checksum = rte_ipv4_cksum(h);  // covers IHL*4 bytes, options included
    return *this;
  }
  PacketBuilder& truncate(size_t len) {
    data_.resize(len);
    return *this;
  }
  Bytes build() const { return data_; }

 private:
  void append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    data_.insert(data_.end(), b, b + n);
  }
  Bytes data_;
  size_t ip_offset_ = 0;
  size_t l4_offset_ = 0;
};

}  // namespace vsgate::test
