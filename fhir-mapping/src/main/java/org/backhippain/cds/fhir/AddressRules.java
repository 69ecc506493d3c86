package org.backhippain.cds.fhir;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import org.backhippain.cds.fhir.FhirServers.FhirServer;
import org.backhippain.cds.fhir.FhirServers.HostKind;

/**
 * Which addresses a FHIR server's connection may go to, checked on the address actually connected
 * (after DNS, so a name that resolves somewhere else later — DNS rebinding — is checked again).
 * Public addresses are fine. Loopback, unspecified ({@code 0.0.0.0}, {@code ::}), link-local (the
 * cloud metadata service at 169.254.169.254), private (10/8, 172.16/12, 192.168/16), unique local
 * IPv6 ({@code fc00::/7}), carrier-grade NAT (100.64/10), multicast, and IPv6 forms that carry such
 * an IPv4 address (mapped, compatible, NAT64) are refused unless listed explicitly: the allow-list
 * entry names the address itself (an IP literal), or {@code localhost} for loopback, or the address
 * lies in {@code cds.fhir.private-networks} (an EHR inside the hospital network).
 */
public final class AddressRules {
  private final List<Network> privateNetworks;

  /**
   * @param privateNetworks CIDR ranges ({@code 10.20.0.0/16}, {@code fd00:1::/48}) or single
   *     addresses that listed host names may resolve to although they are not public
   * @throws IllegalArgumentException naming an entry that is not one
   */
  public AddressRules(Collection<String> privateNetworks) {
    this.privateNetworks = privateNetworks.stream().map(Network::parse).toList();
  }

  /** Why the server may not be reached at this address, or null when it may. */
  String refusal(FhirServer server, InetAddress address) {
    String special = special(address);
    if (special == null
        || server.kind() == HostKind.LITERAL
        || (server.kind() == HostKind.LOCALHOST && address.isLoopbackAddress())
        || privateNetworks.stream().anyMatch(n -> n.contains(address))) {
      return null;
    }
    return "its address is " + special;
  }

  /** A word for a non-public address, or null for a public one. */
  static String special(InetAddress address) {
    if (address.isLoopbackAddress()) {
      return "loopback";
    }
    if (address.isAnyLocalAddress()) {
      return "unspecified";
    }
    if (address.isLinkLocalAddress()) {
      return "link-local";
    }
    if (address.isSiteLocalAddress()) {
      return "private";
    }
    if (address.isMulticastAddress()) {
      return "multicast";
    }
    byte[] b = address.getAddress();
    if (address instanceof Inet4Address) {
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      if (first == 0) {
        return "unspecified";
      }
      if (first == 100 && second >= 64 && second < 128) {
        return "carrier-grade NAT";
      }
      if (first >= 240) {
        return "reserved";
      }
      return null;
    }
    if (address instanceof Inet6Address) {
      if ((b[0] & 0xfe) == 0xfc) {
        return "unique local";
      }
      byte[] embedded = embeddedIpv4(b);
      if (embedded != null) {
        try {
          String inner = special(InetAddress.getByAddress(embedded));
          return "an IPv6 form of an IPv4 address" + (inner == null ? "" : " (" + inner + ")");
        } catch (UnknownHostException e) {
          return "an IPv6 form of an IPv4 address";
        }
      }
    }
    return null;
  }

  /** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 (64:ff9b::/96) address. */
  private static byte[] embeddedIpv4(byte[] b) {
    boolean zeroTen = true;
    for (int i = 0; i < 10; i++) {
      zeroTen &= b[i] == 0;
    }
    boolean mapped = zeroTen && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean compatible = zeroTen && b[10] == 0 && b[11] == 0;
    boolean nat64 =
        (b[0] & 0xff) == 0x00
            && (b[1] & 0xff) == 0x64
            && (b[2] & 0xff) == 0xff
            && (b[3] & 0xff) == 0x9b;
    for (int i = 4; nat64 && i < 12; i++) {
      nat64 = b[i] == 0;
    }
    if (mapped || compatible || nat64) {
      return new byte[] {b[12], b[13], b[14], b[15]};
    }
    return null;
  }

  private record Network(byte[] prefix, int bits) {
    static Network parse(String text) {
      String value = text.strip();
      int slash = value.indexOf('/');
      String address = slash < 0 ? value : value.substring(0, slash);
      if (!address.matches("[0-9A-Fa-f:.]+")) {
        throw new IllegalArgumentException(
            "cds.fhir.private-networks: " + text + " is not an IP address or CIDR range");
      }
      try {
        byte[] bytes = InetAddress.getByName(address).getAddress();
        int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(value.substring(slash + 1));
        if (bits < 0 || bits > bytes.length * 8) {
          throw new IllegalArgumentException("cds.fhir.private-networks: bad prefix in " + text);
        }
        return new Network(bytes, bits);
      } catch (UnknownHostException | NumberFormatException e) {
        throw new IllegalArgumentException(
            "cds.fhir.private-networks: " + text + " is not an IP address or CIDR range", e);
      }
    }

    boolean contains(InetAddress address) {
      byte[] b = address.getAddress();
      if (b.length != prefix.length) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((b[i / 8] & mask) != (prefix[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }
}
