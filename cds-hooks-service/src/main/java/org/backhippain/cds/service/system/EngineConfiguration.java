package org.backhippain.cds.service.system;

import ca.uhn.fhir.context.FhirContext;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.http.conn.DnsResolver;
import org.apache.http.impl.conn.SystemDefaultDnsResolver;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.fhir.AddressRules;
import org.backhippain.cds.fhir.FetchSettings;
import org.backhippain.cds.fhir.FhirParsing;
import org.backhippain.cds.fhir.MemoryBudget;
import org.backhippain.cds.fhir.OutboundClient;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The shared, process-wide pieces: FHIR context, content, compiled rules, the memory budget, the
 * outbound FHIR client, data loader, clock.
 */
@Configuration(proxyBeanMethods = false)
class EngineConfiguration {
  private static final Logger log = LoggerFactory.getLogger(EngineConfiguration.class);
  private static final int KIB = 1024;

  /**
   * The one FHIR context: its parser configuration is {@link FhirParsing#context()}'s, and HAPI's
   * clients run on the outbound client. Nothing changes its options afterwards.
   */
  @Bean
  FhirContext fhirContext(OutboundClient outboundClient) {
    FhirContext fhir = FhirParsing.context();
    outboundClient.install(fhir);
    return fhir;
  }

  @Bean
  ContentPackage contentPackage(FhirContext fhir) {
    return ContentPackage.load(fhir);
  }

  /** CQL is translated here, once per process. */
  @Bean
  RuleEngine ruleEngine(ContentPackage content, FhirContext fhir, CdsProperties properties) {
    return RuleEngine.start(content, fhir, properties.siteParameters());
  }

  @Bean(destroyMethod = "shutdownNow")
  ExecutorService fhirFetchExecutor(CdsProperties properties) {
    AtomicInteger count = new AtomicInteger();
    ThreadFactory threads =
        runnable -> {
          Thread thread = new Thread(runnable, "fhir-fetch-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        };
    return Executors.newFixedThreadPool(properties.fetchThreads(), threads);
  }

  /**
   * The memory bulkhead shared by request bodies and bytes read from FHIR servers: {@code
   * cds.body-heap-share} of the maximum heap divided by {@code cds.body-cost-factor} (the heap one
   * such byte occupies once parsed and evaluated, measured with Synthea patients; see the README's
   * Performance section).
   */
  @Bean
  MemoryBudget memoryBudget(CdsProperties properties) {
    long maxHeap = Runtime.getRuntime().maxMemory();
    MemoryBudget budget =
        new MemoryBudget(
            (long) (maxHeap * properties.bodyHeapShare() / properties.bodyCostFactor()),
            properties.overloadWait());
    FetchSettings fetch = fetchSettings(properties, budget);
    log.info(
        "memory budget for request bodies and fetched FHIR data {} KiB ({} of a {} MiB heap at {}"
            + " heap bytes per byte); body size limit {} KiB; FHIR reads at most {} KiB per"
            + " response, {} KiB per hook",
        budget.bytes() / KIB,
        properties.bodyHeapShare(),
        maxHeap / KIB / KIB,
        properties.bodyCostFactor(),
        Math.min(budget.bytes(), properties.maxRequestBytes().toBytes()) / KIB,
        fetch.maxResponseBytes() / KIB,
        fetch.maxHookBytes() / KIB);
    return budget;
  }

  /** The fetch limits, the byte caps lowered to the memory budget. */
  static FetchSettings fetchSettings(CdsProperties properties, MemoryBudget budget) {
    CdsProperties.Fetch fetch = properties.fetch();
    return new FetchSettings(
        properties.fetchBudget(),
        properties.pageCap(),
        fetch.perOriginConcurrency(),
        properties.fetchThreads(),
        Math.min(fetch.maxResponseBytes().toBytes(), budget.bytes()),
        Math.min(fetch.maxHookBytes().toBytes(), budget.bytes()),
        fetch.connectTimeout(),
        properties.maxBundleEntries());
  }

  /** Name lookups for FHIR servers (a test maps its own names). */
  @Bean
  DnsResolver fhirDnsResolver() {
    return SystemDefaultDnsResolver.INSTANCE;
  }

  /** The outbound boundary: the one HTTP client for EHR FHIR servers. */
  @Bean(destroyMethod = "close")
  OutboundClient outboundClient(
      CdsProperties properties, MemoryBudget budget, DnsResolver fhirDnsResolver) {
    return new OutboundClient(
        fetchSettings(properties, budget),
        fhirDnsResolver,
        new AddressRules(properties.fhir().privateNetworks()));
  }

  @Bean
  PatientDataLoader patientDataLoader(
      FhirContext fhir,
      CdsProperties properties,
      ExecutorService fhirFetchExecutor,
      OutboundClient outboundClient,
      MemoryBudget budget,
      RuleEngine engine) {
    log.info("prefetched resources parsed: {}", engine.selection());
    return new PatientDataLoader(
        fhir,
        fetchSettings(properties, budget),
        fhirFetchExecutor,
        properties.timeZone(),
        outboundClient,
        budget,
        engine.selection());
  }

  @Bean
  Clock clock(CdsProperties properties) {
    return Clock.system(properties.timeZone());
  }
}
