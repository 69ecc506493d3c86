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
 * @param publicBaseUrl the URL EHRs call, as they see it (behind proxies): used in card {@code
 *     source.url} and later as the JWT audience. Empty: taken from each request.
 * @param timeZone the zone in which "today" and whole-day durations are counted
 * @param fetchBudget the time for all FHIR reads of one hook call
 * @param pageCap the most search pages followed per prefetch key
 * @param fetchThreads threads reading the EHR's FHIR server, shared by all requests
 * @param siteParameters overrides of the Config CQL library's thresholds, by parameter name
 * @param corsAllowedOrigins browser origins allowed to call (the CDS Hooks Sandbox needs it)
 * @param maxRequestBytes the largest request body accepted (413 above); lowered to the body budget
 *     when the heap is too small for it
 * @param bodyHeapShare the share of the maximum heap that request bodies in progress may use
 * @param bodyCostFactor heap bytes one request-body byte occupies once parsed and evaluated
 * @param overloadWait how long a request waits for room in the body budget before 503
 */
@ConfigurationProperties("cds")
public record CdsProperties(
    @DefaultValue("") String publicBaseUrl,
    @DefaultValue("UTC") ZoneId timeZone,
    @DefaultValue("1500ms") Duration fetchBudget,
    @DefaultValue("20") int pageCap,
    @DefaultValue("16") int fetchThreads,
    @DefaultValue("Back & Hip Pain CDS") String productName,
    Map<String, String> siteParameters,
    @DefaultValue("*") List<String> corsAllowedOrigins,
    @DefaultValue("16MB") org.springframework.util.unit.DataSize maxRequestBytes,
    @DefaultValue("0.5") double bodyHeapShare,
    @DefaultValue("16") double bodyCostFactor,
    @DefaultValue("2s") Duration overloadWait) {

  public CdsProperties {
    siteParameters = siteParameters == null ? Map.of() : Map.copyOf(siteParameters);
    if (bodyHeapShare <= 0 || bodyHeapShare > 1 || bodyCostFactor < 1) {
      throw new IllegalArgumentException(
          "cds.body-heap-share must be in (0, 1] and cds.body-cost-factor at least 1");
    }
  }
}
