package org.backhippain.cds.service.system;

import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's settings ({@code cds.*} in application.yml).
 *
 * @param publicBaseUrl the URLs EHRs call, as they see them (behind proxies; several ingresses
 *     comma-separated): the JWT audience is one of them plus the path called, and card links use
 *     the one the caller's token named (else the first). Required with authentication on; empty
 *     only in the demo, where each request's own URL is used.
 * @param trustedProxies addresses of the reverse proxies whose {@code X-Forwarded-*} headers are
 *     honoured (none by default: the headers are ignored)
 * @param timeZone the zone in which "today" and whole-day durations are counted
 * @param fetchBudget the time for all FHIR reads of one hook call
 * @param pageCap the most search pages followed per prefetch key
 * @param fetchThreads threads reading the EHR's FHIR server, shared by all requests
 * @param siteParameters overrides of the Config CQL library's thresholds, by parameter name
 * @param corsAllowedOrigins browser origins allowed to call (none by default; {@code *} in the
 *     demo)
 * @param maxRequestBytes the largest request body accepted (413 above); lowered to the body budget
 *     when the heap is too small for it
 * @param bodyHeapShare the share of the maximum heap that request bodies in progress may use
 * @param bodyCostFactor heap bytes one request-body byte occupies once parsed and evaluated
 * @param overloadWait how long a request waits for room in the body budget before 503
 * @param bodyReadDeadline the time a request body has to arrive completely (408 after it)
 * @param fhir which EHR FHIR servers may be read with authentication off
 * @param fetch limits of the outbound FHIR client beyond {@code fetchBudget}
 */
@ConfigurationProperties("cds")
public record CdsProperties(
    List<String> publicBaseUrl,
    List<String> trustedProxies,
    @DefaultValue("UTC") ZoneId timeZone,
    @DefaultValue("1500ms") Duration fetchBudget,
    @DefaultValue("20") int pageCap,
    @DefaultValue("16") int fetchThreads,
    @DefaultValue("Back & Hip Pain CDS") String productName,
    Map<String, String> siteParameters,
    List<String> corsAllowedOrigins,
    @DefaultValue("16MB") org.springframework.util.unit.DataSize maxRequestBytes,
    @DefaultValue("0.5") double bodyHeapShare,
    @DefaultValue("16") double bodyCostFactor,
    @DefaultValue("2s") Duration overloadWait,
    @DefaultValue("10s") Duration bodyReadDeadline,
    @DefaultValue Fhir fhir,
    @DefaultValue Fetch fetch) {

  public CdsProperties {
    publicBaseUrl = publicBaseUrl == null ? List.of() : PublicBaseUrls.normalised(publicBaseUrl);
    trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    corsAllowedOrigins = corsAllowedOrigins == null ? List.of() : List.copyOf(corsAllowedOrigins);
    siteParameters = siteParameters == null ? Map.of() : Map.copyOf(siteParameters);
    if (bodyHeapShare <= 0 || bodyHeapShare > 1 || bodyCostFactor < 1) {
      throw new IllegalArgumentException(
          "cds.body-heap-share must be in (0, 1] and cds.body-cost-factor at least 1");
    }
  }

  /**
   * {@code cds.fhir.*}.
   *
   * @param allowedServers base URLs of the FHIR servers that may be read when authentication is off
   *     (with it on, each trusted issuer's {@code fhir-servers}); {@code *} only as the port
   * @param privateNetworks CIDR ranges that listed host names may resolve to although they are not
   *     public (an EHR inside the hospital network); loopback, link-local and the like are refused
   *     otherwise
   */
  public record Fhir(List<String> allowedServers, List<String> privateNetworks) {
    public Fhir {
      allowedServers = allowedServers == null ? List.of() : List.copyOf(allowedServers);
      privateNetworks = privateNetworks == null ? List.of() : List.copyOf(privateNetworks);
    }
  }

  /**
   * {@code cds.fetch.*}.
   *
   * @param perOriginConcurrency fetches in flight at once per FHIR server origin
   * @param maxResponseBytes the largest FHIR response read (lowered to the memory budget)
   * @param maxHookBytes the most FHIR bytes read for one hook call (lowered to the memory budget)
   * @param connectTimeout DNS lookup and connect, each (within the fetch budget)
   */
  public record Fetch(
      @DefaultValue("4") int perOriginConcurrency,
      @DefaultValue("16MB") org.springframework.util.unit.DataSize maxResponseBytes,
      @DefaultValue("32MB") org.springframework.util.unit.DataSize maxHookBytes,
      @DefaultValue("1s") Duration connectTimeout) {}
}
