package org.backhippain.cds.service.system;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Evaluates every content case once at start-up, before readiness turns green, so that no EHR
 * request pays the engine's first-use cost (class loading, JIT, FHIRHelpers).
 */
@Component
@Order(1)
class EngineWarmUp implements ApplicationRunner {
  private static final Logger log = LoggerFactory.getLogger(EngineWarmUp.class);
  private final RuleEngine engine;
  private final FhirContext fhir;

  EngineWarmUp(RuleEngine engine, FhirContext fhir) {
    this.engine = engine;
    this.fhir = fhir;
  }

  @Override
  public void run(ApplicationArguments args) {
    long start = System.nanoTime();
    List<ContentCase> cases = ContentCase.all(engine.content(), fhir);
    for (ContentCase c : cases) {
      engine.evaluate(
          new EvaluationInput(
              c.record(),
              c.hook(),
              c.evaluationDate().atStartOfDay(java.time.ZoneOffset.UTC),
              c.consideredDrafts(),
              c.allDrafts()));
    }
    log.info(
        "engine warm: {} content cases evaluated in {} ms",
        cases.size(),
        (System.nanoTime() - start) / 1_000_000);
  }
}
