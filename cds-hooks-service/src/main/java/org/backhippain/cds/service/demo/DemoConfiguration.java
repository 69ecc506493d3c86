package org.backhippain.cds.service.demo;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.ResponseHighlighterInterceptor;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.PrefetchKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;

/**
 * The {@code demo} profile: an open, read-only FHIR R4 server under {@code /fhir} (HAPI FHIR's
 * plain server framework, in memory) holding the content's example patients, so the CDS Hooks
 * Sandbox or curl can be pointed at this process with no EHR.
 */
@Configuration(proxyBeanMethods = false)
@Profile("demo")
class DemoConfiguration {
  private static final Logger log = LoggerFactory.getLogger(DemoConfiguration.class);

  /**
   * The example patients, read on a background thread: readiness does not wait for them (their
   * number grows with the test cases), and a request to {@code /fhir} before they are read waits
   * for them.
   */
  @Bean
  DemoPatientStore.Loading demoPatientStore(
      ContentPackage content,
      FhirContext fhir,
      Clock clock,
      @Value("${cds.demo.shift-dates:true}") boolean shiftDates) {
    log.warn(
        "DEMO profile: an open FHIR server with the package's example patients is served under"
            + " /fhir (dates shifted to today: {}). Not for real patient data.",
        shiftDates);
    return new DemoPatientStore.Loading(
        () -> {
          long start = System.nanoTime();
          DemoPatientStore store =
              new DemoPatientStore(
                  DemoPatientStore.examples(content, fhir), fhir, clock, shiftDates);
          log.info(
              "demo FHIR server: {} example patients read in {} ms",
              store.patientIds().size(),
              (System.nanoTime() - start) / 1_000_000);
          return store;
        },
        failure -> log.error("demo FHIR server: the example patients could not be read", failure));
  }

  @Bean
  ServletRegistrationBean<RestfulServer> demoFhirServer(
      FhirContext fhir, ContentPackage content, DemoPatientStore.Loading store) {
    List<IResourceProvider> providers = new ArrayList<>();
    // A provider for every type the prefetch keys bring (the EHR data the service reads).
    for (String type : PrefetchKeys.of(content).types()) {
      providers.add(
          new DemoResourceProvider(
              fhir.getResourceDefinition(type).getImplementingClass(), type, store));
    }
    RestfulServer server = new RestfulServer(fhir);
    server.setResourceProviders(providers);
    server.setDefaultResponseEncoding(EncodingEnum.JSON);
    server.setDefaultPrettyPrint(false);
    server.registerInterceptor(new ResponseHighlighterInterceptor());
    var registration = new ServletRegistrationBean<>(server, "/fhir/*");
    registration.setName("demoFhirServer");
    registration.setLoadOnStartup(1);
    return registration;
  }
}
