package org.backhippain.cds.terminology;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refresh against a terminology server (WireMock standing in for VSAC): pages until the total,
 * survives a short page, fails on a mismatch, a slow or oversized answer; sends Basic apikey
 * authentication; rewrites only sourced codes (curated codes and "(verify)" markers stay).
 */
class RefreshTests {
  static final String OID = "2.16.840.1.113883.3.464.1003.120.12.1003";
  static final String PATH = "/fhir/ValueSet/" + OID + "/$expand";
  WireMockServer server;

  @BeforeEach
  void start() {
    server = new WireMockServer(wireMockConfig().dynamicPort());
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop();
  }

  Refresh refresh(Path root, int pageSize, Duration timeout, long maxBytes) {
    return new Refresh(
        root,
        new Refresh.Options(
            server.baseUrl() + "/fhir", "test-key", pageSize, timeout, maxBytes, List.of("06b")));
  }

  /** A page of an expansion of total {@code total}: the given SNOMED codes. */
  static String page(int total, String... codes) {
    ValueSet vs = new ValueSet();
    vs.setUrl("http://cts.nlm.nih.gov/fhir/ValueSet/" + OID);
    vs.setVersion("20250101");
    vs.getExpansion().setTimestamp(java.util.Date.from(Instant.parse("2026-11-01T00:00:00Z")));
    vs.getExpansion().setTotal(total);
    for (String c : codes) {
      vs.getExpansion()
          .addContains()
          .setSystem("http://snomed.info/sct")
          .setCode(c)
          .setDisplay("Test HIV concept " + c + " (disorder)")
          .setVersion("2025-09");
    }
    return FhirContext.forR4Cached().newJsonParser().encodeResourceToString(vs);
  }

  void serve(String offset, String body) {
    server.stubFor(
        get(urlPathEqualTo(PATH))
            .withQueryParam("offset", equalTo(offset))
            .withHeader(
                "Authorization",
                equalTo(
                    "Basic "
                        + Base64.getEncoder()
                            .encodeToString("apikey:test-key".getBytes(StandardCharsets.UTF_8))))
            .willReturn(
                aResponse().withHeader("Content-Type", "application/fhir+json").withBody(body)));
  }

  @Test
  void pagesATwoPageExpansionKeepsCuratedCodesAndVerifyMarkersAndPrintsTheDiff(@TempDir Path root)
      throws IOException {
    copyRepository(root);
    serve("0", page(3, "111111111", "222222222"));
    serve("2", page(3, "86406008"));
    String diff =
        refresh(root, 2, Duration.ofSeconds(10), 1_000_000)
            .run(Instant.parse("2030-01-01T00:00:00Z"));
    server.verify(2, getRequestedFor(urlPathEqualTo(PATH)));
    ValueSet hiv =
        FhirContext.forR4Cached()
            .newJsonParser()
            .parseResource(
                ValueSet.class,
                Files.readString(root.resolve(TerminologyBuild.VALUESETS + "/ValueSet-hiv.json")));
    List<String> codes = hiv.getExpansion().getContains().stream().map(c -> c.getCode()).toList();
    assertThat(codes).contains("111111111", "222222222", "86406008", "B20", "Z21");
    assertThat(codes).doesNotContain("62479008"); // sourced before, no longer in the source
    var curated =
        hiv.getCompose().getInclude().stream()
            .flatMap(i -> i.getConcept().stream())
            .filter(c -> c.getCode().equals("86406008"))
            .findFirst()
            .orElseThrow();
    assertThat(curated.hasExtension(TerminologyBuild.VERIFY)).isTrue();
    assertThat(diff)
        .contains("ValueSet-hiv.json")
        .contains("+ http://snomed.info/sct|111111111")
        .contains("230 ->      5")
        .contains("- http://snomed.info/sct|10746341000119109");
    assertThat(Files.readString(root.resolve("terminology/sources/SHA256SUMS")))
        .contains(Checksums.sha256(root.resolve("terminology/sources/06b-hiv__ecqm.json")));
  }

  @Test
  void aShortPageIsFollowedFromWhereItEnded() {
    serve("0", page(3, "111111111"));
    serve("1", page(3, "222222222", "333333333"));
    var fetched =
        refresh(Built.ROOT, 2, Duration.ofSeconds(10), 1_000_000)
            .fetch("06b", new ObjectMapper().createObjectNode().put("oid", OID));
    assertThat(fetched.codes())
        .extracting(Sources.Code::code)
        .containsExactly("111111111", "222222222", "333333333");
    assertThat(fetched.timestamp()).startsWith("2026-11-01");
  }

  @Test
  void aMismatchATimeoutAndAnOversizedAnswerFail() {
    var target = new ObjectMapper().createObjectNode().put("oid", OID);
    serve("0", page(3, "111111111"));
    serve("1", page(3));
    assertThatThrownBy(
            () -> refresh(Built.ROOT, 2, Duration.ofSeconds(10), 1_000_000).fetch("06b", target))
        .hasMessageContaining("empty page at offset 1 of total 3");
    serve("1", page(4, "222222222"));
    assertThatThrownBy(
            () -> refresh(Built.ROOT, 2, Duration.ofSeconds(10), 1_000_000).fetch("06b", target))
        .hasMessageContaining("total changed between pages");
    assertThatThrownBy(
            () -> refresh(Built.ROOT, 2, Duration.ofSeconds(10), 100).fetch("06b", target))
        .hasMessageContaining("larger than 100 bytes");
    server.stubFor(
        get(urlPathEqualTo(PATH))
            .withQueryParam("offset", equalTo("0"))
            .willReturn(aResponse().withFixedDelay(3000).withBody(page(1, "111111111"))));
    assertThatThrownBy(
            () -> refresh(Built.ROOT, 2, Duration.ofMillis(300), 1_000_000).fetch("06b", target))
        .hasMessageContaining("timed out");
  }

  /** The build's inputs and outputs in a scratch repository root. */
  static void copyRepository(Path root) throws IOException {
    for (String dir :
        List.of(
            "terminology/sources",
            "terminology/definitions",
            "content/input/vocabulary",
            "content/input/review")) {
      Path from = Built.ROOT.resolve(dir);
      try (Stream<Path> files = Files.walk(from)) {
        for (Path f : files.toList()) {
          Path to = root.resolve(dir).resolve(from.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(to);
          } else {
            Files.copy(f, to);
          }
        }
      }
    }
  }
}
