package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.MetadataResource;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.npm.NpmPackage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The FHIR package the build makes from content: every resource validates against R4 core with
 * HAPI's validator (no error), and every canonical it references resolves inside the package.
 */
class FhirPackageTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final List<IBaseResource> resources = new ArrayList<>();
  static JsonNode manifest;
  static FhirValidator validator;
  static NpmPackage npm;

  @BeforeAll
  static void loadPackage() throws IOException {
    try (InputStream in =
        FhirPackageTests.class
            .getClassLoader()
            .getResourceAsStream(ContentPackage.PACKAGE_RESOURCE)) {
      assertThat(in).as("the package built onto the class path").isNotNull();
      npm = NpmPackage.fromPackage(in);
    }
    try (InputStream in = npm.load("package", "package.json")) {
      manifest = new ObjectMapper().readTree(in);
    }
    for (String file : npm.listResources()) {
      try (InputStream in = npm.loadResource(file)) {
        resources.add(FHIR.newJsonParser().parseResource(in));
      }
    }
    PrePopulatedValidationSupport local = new PrePopulatedValidationSupport(FHIR);
    for (IBaseResource r : resources) {
      if (r instanceof StructureDefinition sd) local.addStructureDefinition(sd);
      if (r instanceof CodeSystem cs) local.addCodeSystem(cs);
      if (r instanceof ValueSet vs) local.addValueSet(vs);
    }
    ValidationSupportChain chain =
        new ValidationSupportChain(
            new DefaultProfileValidationSupport(FHIR),
            new SnapshotGeneratingValidationSupport(FHIR),
            local,
            new CommonCodeSystemsTerminologyService(FHIR),
            new InMemoryTerminologyServerValidationSupport(FHIR));
    validator = FHIR.newValidator();
    validator.registerValidatorModule(new FhirInstanceValidator(chain));
  }

  @Test
  void theServiceLoadsWhatThePackageHolds() throws IOException {
    ContentPackage content = ContentPackage.load(FHIR);
    assertThat(content.planDefinitions()).hasSize(16);
    assertThat(content.cql()).hasSize(19).doesNotContainKey("FHIRHelpers").containsKey("CardText");
    assertThat(content.file("cds-services.json")).isPresent();
    assertThat(content.file("cards/why.mustache")).isPresent();
    assertThat(content.paths("tests")).anyMatch(p -> p.endsWith("/case.json"));
    assertThat(npm.list("other")).contains("cds-services.json");
    // what runs is what the sources say
    ContentPackage sources = ContentSources.read(FHIR);
    assertThat(content.files()).isEqualTo(sources.files());
    sources
        .cql()
        .forEach(
            (name, source) -> assertThat(content.cql().get(name).text()).isEqualTo(source.text()));
    assertThat(content.resources()).hasSameSizeAs(sources.resources());
  }

  @Test
  void manifestFollowsThePackageConventions() {
    assertThat(manifest.path("name").asText()).isEqualTo(PackageBuilder.NAME);
    assertThat(manifest.path("fhirVersions").get(0).asText()).isEqualTo("4.0.1");
    assertThat(manifest.path("canonical").asText()).isEqualTo(ContentPackage.CANONICAL_BASE);
    assertThat(manifest.path("dependencies").path("hl7.fhir.r4.core").asText()).isEqualTo("4.0.1");
  }

  /**
   * Page links are absolute under the public handout base (the package's {@code url}): the built
   * package under the default, and a rebuild for a site's own base ({@code -Dpublic-handout-base})
   * links the rule page and the handout there. A CDS Hooks bridge that takes a card's links from
   * the PlanDefinition's related artifacts (HAPI FHIR's) finds there each page link shown on every
   * card, and a label ({@code display}) for each link.
   */
  @Test
  void pageLinksAreAbsoluteUnderThePublicHandoutBase() {
    assertThat(manifest.path("url").asText()).isEqualTo(ContentPackage.CANONICAL_BASE);
    PlanDefinition packaged = packaged("/self-care");
    assertThat(packaged.getActionFirstRep().getDocumentation())
        .extracting(RelatedArtifact::getUrl)
        .filteredOn(u -> u != null && !u.startsWith("https://doi.org/"))
        .containsExactly(
            ContentPackage.CANONICAL_BASE + "/review/self-care",
            ContentPackage.CANONICAL_BASE + "/handouts/self-care");
    assertThat(packaged.getRelatedArtifact().get(0).getUrl())
        .isEqualTo(ContentPackage.CANONICAL_BASE + "/handouts/self-care");
    PlanDefinition imaging = packaged("/imaging-not-indicated");
    assertThat(imaging.getActionFirstRep().getDocumentation())
        .as("its handout link shows only when the card says so (shown-when)")
        .anyMatch(d -> d.getUrl().endsWith("/handouts/self-care"));
    assertThat(imaging.getRelatedArtifact())
        .noneMatch(a -> a.hasUrl() && a.getUrl().endsWith("/handouts/self-care"));
    assertThat(resources)
        .filteredOn(r -> r instanceof PlanDefinition)
        .flatExtracting(r -> ((PlanDefinition) r).getRelatedArtifact())
        .filteredOn(a -> ((RelatedArtifact) a).hasUrl())
        .allSatisfy(a -> assertThat(((RelatedArtifact) a).getDisplay()).isNotBlank());

    String base = PackageBuilder.pageBase(" https://cds.example.org/back-hip/ ");
    assertThat(base).isEqualTo("https://cds.example.org/back-hip");
    PlanDefinition source =
        ContentSources.read(FHIR).planDefinitions().stream()
            .filter(p -> p.getUrl().endsWith("/self-care"))
            .findFirst()
            .orElseThrow()
            .copy();
    PackageBuilder.links(source, "self-care", base);
    RelatedArtifact rulePage = source.getActionFirstRep().getDocumentation().get(0);
    assertThat(rulePage.getUrl()).isEqualTo(base + "/review/self-care");
    assertThat(rulePage.getDisplay()).isEqualTo(source.getPublisher());
    assertThat(source.getActionFirstRep().getDocumentation())
        .extracting(RelatedArtifact::getUrl)
        .contains(base + "/handouts/self-care")
        .noneMatch(u -> u != null && u.startsWith("/"));
    assertThat(PackageBuilder.manifest(new ObjectMapper(), base).path("url").asText())
        .isEqualTo(base);
    for (String bad : List.of("cds.example.org", "ftp://cds.example.org", "https://h/x?y=1")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> PackageBuilder.pageBase(bad))
          .as(bad)
          .hasMessageContaining("public handout base is not an http(s) URL");
    }
  }

  static PlanDefinition packaged(String urlEnd) {
    return resources.stream()
        .filter(r -> r instanceof PlanDefinition p && p.getUrl().endsWith(urlEnd))
        .map(PlanDefinition.class::cast)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void itHoldsEveryRuleLibraryTerminologyAndExtension() {
    assertThat(resources).filteredOn(r -> r instanceof PlanDefinition).hasSize(16);
    assertThat(resources)
        .filteredOn(r -> r instanceof Library)
        .extracting(r -> ((Library) r).getName())
        .contains("Common", "Config", "FHIRHelpers", "PtReferral", "CaudaEquina");
    assertThat(resources).filteredOn(r -> r instanceof StructureDefinition).hasSize(6);
  }

  /**
   * Every ValueSet carries a complete expansion (the terminology build's): total = the codes
   * listed, no {@code toocostly} flag, a real timestamp, the code systems it used; and a compose
   * any FHIR server reads the same way: at most one filter per include (all filters of one include
   * must hold at once).
   */
  @Test
  void everyValueSetHasACompleteExpansionAndAStandardCompose() {
    List<ValueSet> valueSets =
        resources.stream().filter(r -> r instanceof ValueSet).map(r -> (ValueSet) r).toList();
    assertThat(valueSets).hasSizeGreaterThanOrEqualTo(32);
    for (ValueSet vs : valueSets) {
      var expansion = vs.getExpansion();
      assertThat(expansion.getContains()).as(vs.getUrl()).isNotEmpty();
      assertThat(expansion.getTotal()).as(vs.getUrl()).isEqualTo(expansion.getContains().size());
      assertThat(
              expansion.hasExtension("http://hl7.org/fhir/StructureDefinition/valueset-toocostly"))
          .as(vs.getUrl())
          .isFalse();
      assertThat(expansion.getTimestamp()).as(vs.getUrl()).isAfter(new java.util.Date(0));
      assertThat(expansion.getParameter())
          .as(vs.getUrl())
          .anyMatch(p -> p.getName().equals("used-codesystem"));
      assertThat(vs.getCompose().getInclude())
          .as(vs.getUrl())
          .allSatisfy(i -> assertThat(i.getFilter()).hasSizeLessThanOrEqualTo(1));
      assertThat(vs.getCompose().getInclude())
          .as(vs.getUrl() + ": every include names its source")
          .allSatisfy(
              i ->
                  assertThat(
                          i.hasValueSet()
                              || i.hasExtension(
                                  ContentPackage.CANONICAL_BASE
                                      + "/StructureDefinition/include-source"))
                      .isTrue());
    }
  }

  /**
   * Every resource validates against R4 core with no error. One validator step is routed around:
   * for an extension's {@code element} context, org.hl7.fhir.validation 6.7.9 (HAPI 8.8) looks the
   * path up in core version "4.0", which it does not match with its own "4.0.1", and goes to fetch
   * the hl7.fhir.r4.core package from packages.fhir.org ("Unable to resolve package id
   * hl7.fhir.r4.core#null"); the exception aborts the rest of the StructureDefinition checks,
   * snapshot generation included. So a StructureDefinition is validated as a copy whose contexts
   * are typed {@code fhirpath} (same expressions; every other check runs), and {@link
   * #extensionContextsAreCoreElements} does the skipped lookup against HAPI's R4 core definitions.
   */
  @TestFactory
  Stream<DynamicTest> everyResourceValidatesAgainstR4Core() {
    return resources.stream()
        .map(
            r ->
                DynamicTest.dynamicTest(
                    r.fhirType() + "/" + r.getIdElement().getIdPart(),
                    () -> assertThat(errors(forValidation(r))).isEmpty()));
  }

  static IBaseResource forValidation(IBaseResource r) {
    if (!(r instanceof StructureDefinition sd)) {
      return r;
    }
    StructureDefinition copy = sd.copy();
    copy.getContext().forEach(c -> c.setType(StructureDefinition.ExtensionContextType.FHIRPATH));
    return copy;
  }

  static List<String> errors(IBaseResource r) {
    return validator.validateWithResult(r).getMessages().stream()
        .filter(
            m ->
                m.getSeverity() == ResultSeverityEnum.ERROR
                    || m.getSeverity() == ResultSeverityEnum.FATAL)
        .map(SingleValidationMessage::toString)
        .toList();
  }

  @Test
  void theValidatorRejectsABrokenExtensionDefinition() {
    StructureDefinition broken =
        (StructureDefinition)
            forValidation(
                resources.stream()
                    .filter(r -> r instanceof StructureDefinition)
                    .findFirst()
                    .orElseThrow());
    broken.getDifferential().getElement().stream()
        .filter(e -> e.getPath().equals("Extension.value[x]"))
        .forEach(e -> e.getTypeFirstRep().setCode("NoSuchType"));
    assertThat(errors(broken)).anyMatch(m -> m.contains("NoSuchType"));
  }

  @Test
  void extensionContextsAreCoreElements() {
    var core = new DefaultProfileValidationSupport(FHIR);
    for (IBaseResource r : resources) {
      if (r instanceof StructureDefinition sd) {
        assertThat(sd.getContext()).isNotEmpty();
        for (var context : sd.getContext()) {
          assertThat(context.getType()).isEqualTo(StructureDefinition.ExtensionContextType.ELEMENT);
          String path = context.getExpression();
          String type = path.contains(".") ? path.substring(0, path.indexOf('.')) : path;
          var definition =
              (StructureDefinition)
                  core.fetchStructureDefinition("http://hl7.org/fhir/StructureDefinition/" + type);
          assertThat(definition).as(sd.getUrl() + " context type " + type).isNotNull();
          assertThat(definition.getSnapshot().getElement())
              .as(sd.getUrl() + " context " + path)
              .anyMatch(e -> e.getPath().equals(path));
        }
      }
    }
  }

  @Test
  void extensionDefinitionsAreConsistent() {
    for (IBaseResource r : resources) {
      if (r instanceof StructureDefinition sd) {
        assertThat(sd.getType()).isEqualTo("Extension");
        assertThat(sd.getBaseDefinition())
            .isEqualTo("http://hl7.org/fhir/StructureDefinition/Extension");
        assertThat(sd.getSnapshot().getElement())
            .extracting(e -> e.getPath())
            .contains("Extension", "Extension.extension", "Extension.url", "Extension.value[x]");
        var url =
            sd.getSnapshot().getElement().stream()
                .filter(e -> e.getPath().equals("Extension.url"))
                .findFirst()
                .orElseThrow();
        assertThat(url.getFixed().primitiveValue()).isEqualTo(sd.getUrl());
        var value =
            sd.getSnapshot().getElement().stream()
                .filter(e -> e.getPath().equals("Extension.value[x]"))
                .findFirst()
                .orElseThrow();
        assertThat(value.getType()).hasSize(1);
        assertThat(value.getMin()).isEqualTo(1);
      }
    }
  }

  @Test
  void everyCanonicalResolvesInsideThePackage() {
    Set<String> urls = new HashSet<>();
    for (IBaseResource r : resources) {
      if (r instanceof MetadataResource m) {
        urls.add(m.getUrl());
        urls.add(m.getUrl() + "|" + m.getVersion());
      }
    }
    List<String> missing = new ArrayList<>();
    Pattern canonical =
        Pattern.compile(
            "\"(https://back-hip-pain-cds\\.org/fhir/[A-Z][A-Za-z]+/[A-Za-z0-9.-]+(?:\\|[0-9.]+)?)\"");
    Pattern valueset = Pattern.compile("valueset \"[^\"]+\": '([^']+)'");
    for (IBaseResource r : resources) {
      String text = FHIR.newJsonParser().encodeResourceToString(r);
      Matcher m = canonical.matcher(text);
      while (m.find()) {
        String ref = m.group(1);
        if (!urls.contains(ref)) {
          missing.add(r.getIdElement().getIdPart() + " -> " + ref);
        }
      }
      if (r instanceof Library library) {
        String cql = new String(library.getContentFirstRep().getData(), StandardCharsets.UTF_8);
        Matcher v = valueset.matcher(cql);
        while (v.find()) {
          if (!urls.contains(v.group(1))) missing.add(library.getName() + " -> " + v.group(1));
        }
      }
    }
    assertThat(missing).isEmpty();
  }
}
