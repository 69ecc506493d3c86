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
    @DefaultValue("10s") Duration bodyReadDeadline) {

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
}
