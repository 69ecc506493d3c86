package org.backhippain.cds.service;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;

/**
 * The whole service on a random port, in the demo profile (its /fhir server holds the content's
 * patients, dates not shifted) with a {@link TestClock}. FHIR servers allowed: the demo's (any port
 * of localhost under /fhir, where the tests' stubs run too) and {@value #REBOUND_HOST} under /fhir,
 * a name the test resolver maps to 127.0.0.1. One shared Spring context for all suites.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "cds.demo.shift-dates=false",
      "cds.security.operator.username=operator",
      "cds.security.operator.password=operator-secret",
      "cds.fhir.allowed-servers=http://localhost:*/fhir,http://"
          + ServiceTest.REBOUND_HOST
          + ":*/fhir"
    })
@ActiveProfiles("demo")
@Import(TestClock.Config.class)
public @interface ServiceTest {
  /** A listed FHIR server name that resolves to a loopback address. */
  String REBOUND_HOST = "ehr-rebound.test";
}
