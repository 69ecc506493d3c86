package org.backhippain.cds.fhir;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The FHIR servers the service may read: an allow-list of base URLs ({@code
 * cds.security.issuers[].fhir-servers} for the issuer that signed the call, {@code
 * cds.fhir.allowed-servers} with authentication off). An entry names a scheme, a host, a port and a
 * path prefix; {@code *} may stand for the port (tests, demo) and nowhere else. A {@code
 * fhirServer} is allowed when its scheme and host equal an entry's, its port equals the entry's (or
 * the entry's is {@code *}), and its path is the entry's path or below it. Nothing is normalised
 * beyond case and default ports: another spelling of the same host (a trailing dot, an integer or
 * octal IP address, {@code [::ffff:127.0.0.1]}) is another host, allowed only if listed so. User
 * info, queries, fragments, dot segments and encoded dots or slashes are refused.
 */
public final class FhirServers {
  private static final Pattern URL =
      Pattern.compile(
          "(?i)(https?)://(\\[[0-9a-f:.]+]|[a-z0-9._-]+)(?::(\\d{1,5}|\\*))?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?");
  private static final Pattern NUMERIC_HOST =
      Pattern.compile("(?i)(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]+))*\\.?");
  private static final Pattern ENCODED_SEPARATOR = Pattern.compile("(?i)%(2e|2f|5c|00)");

  private final List<FhirServer> entries;

  private FhirServers(List<FhirServer> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * @throws IllegalArgumentException naming the first entry that is not a base URL
   */
  public static FhirServers of(Collection<String> entries) {
    return new FhirServers(
        entries.stream()
            .map(String::strip)
            .filter(e -> !e.isEmpty())
            .map(
                e ->
                    parse(e, true)
                        .orElseThrow(
                            () ->
                                new IllegalArgumentException(
                                    "FHIR server allow-list entry "
                                        + e
                                        + " is not a base URL (scheme, host, port or *, path)")))
            .toList());
  }

  /** Nothing allowed. */
  public static FhirServers none() {
    return new FhirServers(List.of());
  }

  public List<String> entries() {
    return entries.stream().map(FhirServer::base).toList();
  }

  /** The server {@code fhirServer} names, when an entry allows it. */
  public Optional<FhirServer> match(String fhirServer) {
    if (fhirServer == null) {
      return Optional.empty();
    }
    Optional<FhirServer> candidate = parse(fhirServer.strip(), false);
    if (candidate.isEmpty()) {
      return Optional.empty();
    }
    FhirServer server = candidate.get();
    for (FhirServer entry : entries) {
      if (entry.scheme().equals(server.scheme())
          && entry.host().equals(server.host())
          && (entry.port() == FhirServer.ANY_PORT || entry.port() == server.port())
          && under(server.path(), entry.path())) {
        return Optional.of(server.listedBy(entry));
      }
    }
    return Optional.empty();
  }

  /** The scheme, host and port of {@code fhirServer} if it parses as a base URL (for logs). */
  public static Optional<String> originOf(String fhirServer) {
    return fhirServer == null
        ? Optional.empty()
        : parse(fhirServer.strip(), false).map(FhirServer::origin);
  }

  static boolean under(String path, String prefix) {
    return prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
  }

  private static Optional<FhirServer> parse(String url, boolean entry) {
    Matcher m = URL.matcher(url);
    if (!m.matches()) {
      return Optional.empty();
    }
    String scheme = m.group(1).toLowerCase(Locale.ROOT);
    String host = m.group(2).toLowerCase(Locale.ROOT);
    String portText = m.group(3);
    String path = m.group(4) == null ? "" : m.group(4);
    if ("*".equals(portText) && !entry) {
      return Optional.empty();
    }
    int port =
        portText == null
            ? ("https".equals(scheme) ? 443 : 80)
            : "*".equals(portText) ? FhirServer.ANY_PORT : Integer.parseInt(portText);
    if (port == 0 || port > 65535) {
      return Optional.empty();
    }
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (path.contains("//")
        || ENCODED_SEPARATOR.matcher(path).find()
        || path.matches("(.*/)?\\.\\.?(/.*)?")) {
      return Optional.empty();
    }
    HostKind kind;
    if (host.startsWith("[")) {
      try {
        host = "[" + InetAddress.getByName(host).getHostAddress() + "]";
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
      kind = HostKind.LITERAL;
    } else if (NUMERIC_HOST.matcher(host).matches()) {
      kind = HostKind.LITERAL;
    } else if ("localhost".equals(host)) {
      kind = HostKind.LOCALHOST;
    } else {
      kind = HostKind.NAME;
    }
    return Optional.of(new FhirServer(scheme, host, port, path, kind, port != FhirServer.ANY_PORT));
  }

  /** How a server's host was written; it decides which addresses it may connect to. */
  public enum HostKind {
    /** A DNS name: only public addresses (and {@code cds.fhir.private-networks}). */
    NAME,
    /** {@code localhost}: loopback addresses. */
    LOCALHOST,
    /** An IP address, in whatever spelling: exactly the address it denotes. */
    LITERAL
  }

  /**
   * One FHIR server base URL.
   *
   * @param port the port, {@code -1} meaning any (allow-list entries only)
   * @param path the path prefix without a trailing slash ({@code ""} for the root)
   * @param explicitOrigin whether the allow-list names this exact origin (its port, not {@code *})
   */
  public record FhirServer(
      String scheme, String host, int port, String path, HostKind kind, boolean explicitOrigin) {
    static final int ANY_PORT = -1;

    private FhirServer listedBy(FhirServer entry) {
      return new FhirServer(scheme, host, port, path, kind, entry.port() != ANY_PORT);
    }

    /**
     * A bearer token goes over https, or over plain http to an origin the allow-list names exactly,
     * or to loopback (where it never leaves the machine).
     */
    boolean bearerAllowed() {
      if (https() || explicitOrigin || kind == HostKind.LOCALHOST) {
        return true;
      }
      try {
        return kind == HostKind.LITERAL
            && InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }

    /** The base URL without a trailing slash (a default port left out). */
    public String base() {
      boolean defaultPort = port == ("https".equals(scheme) ? 443 : 80);
      return scheme
          + "://"
          + host
          + (defaultPort ? "" : ":" + (port == ANY_PORT ? "*" : port))
          + path;
    }

    /** {@code scheme://host:port}: the unit of token use and of the per-origin bulkhead. */
    public String origin() {
      return scheme + "://" + host + ":" + port;
    }

    boolean https() {
      return "https".equals(scheme);
    }

    /** True for the same scheme, host and port (default ports filled in). */
    boolean sameOrigin(String otherScheme, String otherHost, int otherPort) {
      if (otherScheme == null || otherHost == null) {
        return false;
      }
      String s = otherScheme.toLowerCase(Locale.ROOT);
      int p = otherPort >= 0 ? otherPort : "https".equals(s) ? 443 : "http".equals(s) ? 80 : -2;
      String h = otherHost.toLowerCase(Locale.ROOT);
      if (h.startsWith("[") || h.contains(":")) {
        try {
          h =
              "["
                  + InetAddress.getByName(h.replace("[", "").replace("]", "")).getHostAddress()
                  + "]";
        } catch (UnknownHostException e) {
          return false;
        }
      }
      return scheme.equals(s) && host.equals(h) && port == p;
    }

    /**
     * Whether {@code url} (absolute, or relative to this base) lies under this base: same origin,
     * path at or below the base path, no dot segments. Returns the absolute URL, or empty.
     */
    Optional<String> resolveUnder(String url) {
      try {
        URI base =
            new URI(
                scheme, null, host.replace("[", "").replace("]", ""), port, path + "/", null, null);
        URI target = base.resolve(new URI(url));
        if (!target.normalize().equals(target)
            || target.getRawUserInfo() != null
            || target.getRawPath() == null
            || ENCODED_SEPARATOR.matcher(target.getRawPath()).find()
            || !sameOrigin(target.getScheme(), target.getHost(), target.getPort())) {
          return Optional.empty();
        }
        String targetPath = target.getRawPath();
        while (targetPath.endsWith("/")) {
          targetPath = targetPath.substring(0, targetPath.length() - 1);
        }
        return under(targetPath, path) ? Optional.of(target.toString()) : Optional.empty();
      } catch (URISyntaxException | IllegalArgumentException e) {
        return Optional.empty();
      }
    }
  }
}
