package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/**
 * The service jar holds what runs in production and nothing else (run by failsafe, after the jar is
 * built): none of the build's tools (content-build: the CQL check, package writer, card text and
 * data-requirements generation, test cases, rule-book generator) nor their libraries (the ELM
 * data-requirements processor), nor Apache Jena (HAPI's RDF support), nor the content sources or
 * the ICD-10-CM table; commons-compress stays only because HAPI's NpmPackage reads the package with
 * it; but the package, the warm-up set and the rule book pages are there. And the jar alone runs:
 * started as the README's command 1 (demo profile), it gets ready and answers a hook with cards —
 * the tests' class path, which holds the build's tools, cannot hide a library the jar lacks.
 */
class ServiceJarIT {
  static final Path JAR = Path.of("target", "back-hip-pain-cds.jar");

  /** Libraries only the build uses. */
  static final List<String> BUILD_ONLY_LIBRARIES =
      List.of("content-build-", "content-0.1.0", "terminology-", "elm-fhir-", "jena-");

  /** Classes only the build runs (their simple names, in any package). */
  static final List<String> BUILD_ONLY_CLASSES =
      List.of(
          "PackageBuilder",
          "CqlCheck",
          "CardText",
          "DataRequirements",
          "ContentCase",
          "ContentSources",
          "RuleBook",
          "RuleBookGenerator",
          "ElmModel");

  @Test
  void holdsNoBuildToolNorItsLibraries() throws IOException {
    assertThat(JAR).as("built by mvn package").exists();
    List<String> libraries = new ArrayList<>();
    List<String> buildClasses = new ArrayList<>();
    List<String> entries = new ArrayList<>();
    try (ZipFile jar = new ZipFile(JAR.toFile())) {
      for (ZipEntry entry : java.util.Collections.list(jar.entries())) {
        String name = entry.getName();
        entries.add(name);
        if (name.startsWith("BOOT-INF/lib/")) {
          String lib = name.substring("BOOT-INF/lib/".length());
          libraries.add(lib);
          if (lib.startsWith("org.backhippain")
              || lib.matches("[a-z-]+-0\\.1\\.0-SNAPSHOT\\.jar")) {
            try (InputStream in = jar.getInputStream(entry);
                ZipInputStream nested = new ZipInputStream(in)) {
              for (ZipEntry e = nested.getNextEntry(); e != null; e = nested.getNextEntry()) {
                entries.add(lib + "!/" + e.getName());
              }
            }
          }
        }
      }
    }
    for (String entry : entries) {
      String simple = entry.substring(entry.lastIndexOf('/') + 1);
      for (String build : BUILD_ONLY_CLASSES) {
        if (simple.equals(build + ".class") || simple.startsWith(build + "$")) {
          buildClasses.add(entry);
        }
      }
    }
    assertThat(libraries)
        .as("BOOT-INF/lib")
        .noneMatch(lib -> BUILD_ONLY_LIBRARIES.stream().anyMatch(lib::startsWith));
    assertThat(buildClasses).as("build-only classes in the jar").isEmpty();
    assertThat(entries)
        .as("the ICD-10-CM table and the content sources stay out")
        .noneMatch(e -> e.toLowerCase().contains("icd10cm") && !e.endsWith(".class"))
        .noneMatch(e -> e.contains("content/index.txt"));
    assertThat(entries)
        .contains("BOOT-INF/classes/rulebook/index.html")
        .anyMatch(e -> e.endsWith("!/fhir-package/org.back-hip-pain-cds.content.tgz"));
    System.out.printf(
        "service jar: %d bytes, %d libraries in BOOT-INF/lib%n", Files.size(JAR), libraries.size());
  }

  @Test
  void theJarAloneStartsAndAnswersAHook() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path log = Files.createTempFile("service-jar", ".log");
    Process service =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+ExitOnOutOfMemoryError",
                "-jar",
                JAR.toAbsolutePath().toString(),
                "--spring.profiles.active=demo",
                "--server.port=" + port)
            .directory(Files.createTempDirectory("service-jar").toFile()) // its H2 file: ./data
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      var http = java.net.http.HttpClient.newHttpClient();
      String base = "http://localhost:" + port;
      long start = System.nanoTime();
      boolean ready = false;
      // Liveness bound (>= 10x the usual start) for a loaded 2-core machine.
      while (!ready && System.nanoTime() - start < 180_000_000_000L && service.isAlive()) {
        try {
          ready =
              http.send(
                      java.net.http.HttpRequest.newBuilder(
                              java.net.URI.create(base + "/actuator/health/readiness"))
                          .build(),
                      java.net.http.HttpResponse.BodyHandlers.ofString())
                  .body()
                  .contains("\"UP\"");
        } catch (IOException notYet) {
          // not listening yet
        }
        if (!ready) {
          Thread.sleep(200);
        }
      }
      long readyMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(ready).as("ready; log: " + Files.readString(log)).isTrue();
      String request =
          "{\"hook\":\"patient-view\",\"hookInstance\":\"d1577c69-dfbe-44ad-ba6d-3e05e953b2ea\","
              + "\"fhirServer\":\""
              + base
              + "/fhir\",\"context\":{\"userId\":\"Practitioner/example\","
              + "\"patientId\":\"ptref-pos-21-days\"}}";
      var answer =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(base + "/cds-services/back-hip-pain-patient-view"))
                  .header("Content-Type", "application/json")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(request))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(answer.body()).contains("\"code\":\"pt-referral\"");
      String lines = Files.readString(log);
      System.out.printf(
          "service jar: ready after %d ms (process start to readiness UP); %s%n",
          readyMillis,
          lines
              .lines()
              .filter(l -> l.contains("path warm:"))
              .map(l -> l.substring(l.indexOf(": ") + 2))
              .toList());
    } finally {
      service.destroy();
      service.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      service.destroyForcibly();
    }
  }
}
