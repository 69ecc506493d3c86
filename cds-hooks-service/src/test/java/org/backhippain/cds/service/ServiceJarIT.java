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
 * data-requirements generation, test cases, rule-book generator) nor their libraries
 * (commons-compress, the ELM data-requirements processor), nor Apache Jena (HAPI's RDF support,
 * which brought commons-compress back), nor the content sources or the ICD-10-CM table; but the package, the warm-up set and the rule
 * book pages are there.
 */
class ServiceJarIT {
  static final Path JAR = Path.of("target", "back-hip-pain-cds.jar");

  /** Libraries only the build uses. */
  static final List<String> BUILD_ONLY_LIBRARIES =
      List.of(
          "content-build-",
          "content-0.1.0",
          "terminology-",
          "commons-compress-",
          "elm-fhir-",
          "jena-");

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
}
