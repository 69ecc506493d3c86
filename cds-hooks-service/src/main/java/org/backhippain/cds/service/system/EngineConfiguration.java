package org.backhippain.cds.service.system;

import ca.uhn.fhir.context.FhirContext;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.fhir.FetchSettings;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The shared, process-wide pieces: FHIR context, content, compiled rules, data loader, clock. */
@Configuration(proxyBeanMethods = false)
class EngineConfiguration {

  @Bean
  FhirContext fhirContext() {
    return FhirContext.forR4();
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

  @Bean
  PatientDataLoader patientDataLoader(
      FhirContext fhir, CdsProperties properties, ExecutorService fhirFetchExecutor) {
    return new PatientDataLoader(
        fhir,
        new FetchSettings(properties.fetchBudget(), properties.pageCap()),
        fhirFetchExecutor,
        properties.timeZone());
  }

  @Bean
  Clock clock(CdsProperties properties) {
    return Clock.system(properties.timeZone());
  }
}
