package org.backhippain.cds.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The invariants of ARCHITECTURE.md, held by the build. */
@AnalyzeClasses(
    packages = "org.backhippain.cds",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTests {

  @ArchTest
  static final ArchRule fhirMappingKnowsNoCqlNorService =
      noClasses()
          .that()
          .resideInAPackage("org.backhippain.cds.fhir..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "org.backhippain.cds.cql..",
              "org.backhippain.cds.service..",
              "org.opencds..",
              "org.cqframework..");

  /**
   * The rule book reads the compiled content (ELM, data requirements, PlanDefinitions, expansions),
   * never CQL text with regular expressions.
   */
  @ArchTest
  static final ArchRule ruleBookUsesNoRegularExpressions =
      noClasses()
          .that()
          .resideInAPackage("org.backhippain.cds.rulebook..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("java.util.regex..");

  /** What runs in production never reaches for the build's tools (content-build). */
  @ArchTest
  static final ArchRule runtimeKnowsNoBuildTool =
      noClasses()
          .that()
          .resideInAnyPackage("org.backhippain.cds.service..", "org.backhippain.cds.fhir..")
          .or()
          .belongToAnyOf(org.backhippain.cds.cql.RuleEngine.class)
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.backhippain.cds.rulebook..")
          .orShould()
          .dependOnClassesThat()
          .haveSimpleName("ContentCase");

  @ArchTest
  static final ArchRule cqlLibraryKnowsNoService =
      noClasses()
          .that()
          .resideInAPackage("org.backhippain.cds.cql..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.backhippain.cds.service..");

  @ArchTest
  static final ArchRule onlyTheServiceKnowsSpring =
      noClasses()
          .that()
          .resideInAnyPackage("org.backhippain.cds.fhir..", "org.backhippain.cds.cql..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.springframework..", "jakarta.servlet..");

  @ArchTest
  static final ArchRule cqlEngineStaysBehindCqlLibrary =
      noClasses()
          .that()
          .resideInAPackage("org.backhippain.cds.service..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("org.opencds.cqf..", "org.cqframework..");

  /** Identity is Spring Security's: no hand-written filter verifies a token, JOSE stays there. */
  @ArchTest
  static final ArchRule noHandWrittenAuthenticationFilter =
      noClasses()
          .that()
          .resideInAPackage("org.backhippain.cds.service.security..")
          .should()
          .implement(jakarta.servlet.Filter.class);

  @ArchTest
  static final ArchRule joseOnlyInTheSecurityPackage =
      noClasses()
          .that()
          .resideOutsideOfPackage("org.backhippain.cds.service.security..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("com.nimbusds..");
}
